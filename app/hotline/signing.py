"""How both sides sign a message: HMAC-SHA256 of "<unix time>.<body>" with the shared secret, hex, in headers.
A message older or newer than five minutes is refused, so a captured one cannot be replayed later."""
from __future__ import annotations

import hashlib
import hmac
import time

TIMESTAMP, SIGNATURE, PLATFORM = "X-Gongzhi-Timestamp", "X-Gongzhi-Signature", "X-Gongzhi-Platform"
WINDOW_SECONDS = 300


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def headers(secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
    timestamp = str(int(now if now is not None else time.time()))
    return {TIMESTAMP: timestamp, SIGNATURE: sign(secret, timestamp, body), "Content-Type": "application/json"}


def valid(secret: str, timestamp: str | None, signature: str | None, body: bytes, now: float | None = None) -> bool:
    if not timestamp or not signature or not timestamp.isdigit():
        return False
    if abs((now if now is not None else time.time()) - int(timestamp)) > WINDOW_SECONDS:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)
