"""Personal data through its life (个人信息保护法): the notice, consent, a person's rights, retention and keys."""
