"""Personal data through its life (个人信息保护法): the versioned notice and consents, a person's rights
(export, correction, cancellation, requests from portal residents), retention for every kind of record,
and the rotation of DATA_KEY.

May import: core, accounts and every domain that holds personal data (it erases and exports across them).
Imported by the front doors and the jobs only.
"""
