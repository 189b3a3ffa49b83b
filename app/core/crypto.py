"""Field encryption for personal data at rest, and masking for display."""
from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app


def _fernet() -> Fernet:
    secret = current_app.config.get("DATA_KEY") or current_app.config["SECRET_KEY"]
    key = base64.urlsafe_b64encode(hashlib.sha256(("gongzhi-data:" + secret).encode()).digest())
    return Fernet(key)


def lookup_hash(value: str) -> str:
    """A keyed, deterministic hash for finding a row by a secret value (a phone number)."""
    secret = current_app.config.get("DATA_KEY") or current_app.config["SECRET_KEY"]
    return hmac.new(("gongzhi-lookup:" + secret).encode(), value.encode(), hashlib.sha256).hexdigest()


def encrypt(value: str | None) -> str | None:
    if value is None:
        return None
    return _fernet().encrypt(value.encode()).decode()


def decrypt(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return _fernet().decrypt(value.encode()).decode()
    except InvalidToken:
        return None


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
