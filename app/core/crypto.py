"""Field encryption for personal data at rest (keys that rotate), keyed lookup hashes, and masking for display.

`DATA_KEY` holds one key or several, comma separated: new data is encrypted under the first, and
data under any of them is read, so a key can be rotated without a blackout (`flask rekey-personal-data`
then re-encrypts everything under the first). A stored value that no configured key opens is an
error, logged and raised: never a silent blank that would look like "no phone number given".
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app

from app.core.errors import ServiceUnavailable

log = logging.getLogger(__name__)


class Undecryptable(ServiceUnavailable):
    """A stored personal datum that no configured DATA_KEY opens: the keys are misconfigured."""

    message = "个人信息无法解密：数据密钥（DATA_KEY）配置有误，请联系系统管理员。"


def _fernet_for(secret: str) -> Fernet:
    # Any string is accepted as a key: it is stretched into a Fernet key, so that the values written
    # before keys could rotate (one DATA_KEY, hashed this same way) still open.
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(("gongzhi-data:" + secret).encode()).digest()))


def data_keys() -> list[str]:
    keys = current_app.config["DATA_KEYS"]
    if not keys:
        raise Undecryptable("未配置数据密钥（DATA_KEY），无法读写个人信息。")
    return keys


def _multi() -> MultiFernet:
    keys = tuple(data_keys())
    cache = current_app.extensions.setdefault("gongzhi.data_keys", {})
    if keys not in cache:
        cache.clear()
        cache[keys] = MultiFernet([_fernet_for(k) for k in keys])
    return cache[keys]


def lookup_hash(value: str) -> str:
    """A keyed, deterministic hash for finding a row by a secret value (a phone number), under the current key."""
    return _lookup(data_keys()[0], value)


def lookup_hashes(value: str) -> list[str]:
    """The hash under every configured key: a row hashed before a rotation is still found until it is re-keyed."""
    return [_lookup(key, value) for key in data_keys()]


def _lookup(secret: str, value: str) -> str:
    return hmac.new(("gongzhi-lookup:" + secret).encode(), value.encode(), hashlib.sha256).hexdigest()


def encrypt(value: str | None) -> str | None:
    if value is None:
        return None
    return _multi().encrypt(value.encode()).decode()


def decrypt(value: str | None) -> str | None:
    """The clear text, or None for no value. A value that no key opens raises `Undecryptable`."""
    if value is None:
        return None
    try:
        return _multi().decrypt(value.encode()).decode()
    except InvalidToken as exc:
        log.error("A stored personal datum cannot be decrypted with any configured DATA_KEY "
                  "(%d key(s) configured): check DATA_KEY", len(data_keys()))
        raise Undecryptable() from exc


def reencrypt(value: str | None) -> str | None:
    """The same datum under the current (first) key; raises `Undecryptable` if no key opens it."""
    if value is None:
        return None
    try:
        return _multi().rotate(value.encode()).decode()
    except InvalidToken as exc:
        log.error("A stored personal datum cannot be re-encrypted: no configured DATA_KEY opens it")
        raise Undecryptable() from exc


def mask_phone(phone: str | None) -> str | None:
    """138****1234"""
    if not phone:
        return None
    if len(phone) < 7:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"


def mask_name(name: str | None) -> str:
    """张三 → 张*, 欧阳娜娜 → 欧**娜"""
    if not name:
        return ""
    if len(name) <= 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


# ID card numbers first, so the phone pattern never eats the middle of one.
_ID_CARD = re.compile(r"(?<![0-9])(\d{6})\d{8}(\d{3}[0-9Xx])(?![0-9])")
_MOBILE = re.compile(r"(?<![0-9])(?:\+?86[- ]?)?(1[3-9]\d)[- ]?\d{4}[- ]?(\d{4})(?![0-9])")
_LANDLINE = re.compile(r"(?<![0-9])(0\d{2,3})[- ]?\d{3,4}(\d{4})(?![0-9])")


def mask_personal(text: str) -> str:
    """Mask ID numbers and phone numbers a resident typed into free text."""
    text = _ID_CARD.sub(lambda m: f"{m[1]}********{m[2]}", text or "")
    text = _MOBILE.sub(lambda m: f"{m[1]}****{m[2]}", text)
    return _LANDLINE.sub(lambda m: f"{m[1]}-****{m[2]}", text)
