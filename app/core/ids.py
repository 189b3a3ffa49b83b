"""Identifiers people see: unguessable scenes and readable tracking numbers."""
from __future__ import annotations

import secrets
import string

from app.core.time import to_local, utcnow

_SCENE_ALPHABET = string.ascii_letters + string.digits
_TRACKING_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I


def new_scene(prefix: str = "p") -> str:
    """A mini-program `scene`: ≤ 32 visible ASCII characters, random, not sequential."""
    body = "".join(secrets.choice(_SCENE_ALPHABET) for _ in range(20))
    return f"{prefix}{body}"[:32]


def new_tracking_no(prefix: str = "GZ") -> str:
    """GZ20261121-7KQ4MX: the local date plus six random characters."""
    day = to_local(utcnow()).strftime("%Y%m%d")
    tail = "".join(secrets.choice(_TRACKING_ALPHABET) for _ in range(6))
    return f"{prefix}{day}-{tail}"


def new_token(nbytes: int = 24) -> str:
    return secrets.token_urlsafe(nbytes)


def new_verification_code() -> str:
    return "".join(secrets.choice(_TRACKING_ALPHABET) for _ in range(12))
