"""Message push (消息推送) from WeChat to us: its signature checked, in plain and safe mode, by wechatpy.

Plain mode signs the request with the Token (`signature`); safe mode also encrypts the body with the
EncodingAESKey and signs the ciphertext (`msg_signature`). Bodies are JSON or XML, as configured in
the mini-program's admin console; both are read.
"""
from __future__ import annotations

import json

import xmltodict
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.utils import check_signature


class BadPush(Exception):
    """Not a push from WeChat: a wrong signature, a wrong app, or a body that cannot be read."""


def echo(args, token: str) -> str:
    """The server check WeChat makes when the push URL is configured: answer its echostr."""
    _check_plain(args, token)
    return args.get("echostr", "")


def read(args, body: bytes, *, token: str, aes_key: str | None, appid: str) -> dict:
    """The pushed message, once its signature (and, in safe mode, its encryption) is verified."""
    _check_plain(args, token)
    if args.get("encrypt_type") == "aes":
        if not aes_key:
            raise BadPush("safe mode push without an EncodingAESKey configured")
        try:
            plain = WeChatCrypto(token, aes_key, appid).decrypt_message(
                _parse(body), args.get("msg_signature", ""), args.get("timestamp", ""), args.get("nonce", ""))
        except (InvalidSignatureException, InvalidAppIdException, ValueError, KeyError) as exc:
            raise BadPush(f"safe mode push refused: {exc.__class__.__name__}") from exc
        return _parse(plain)
    return _parse(body)


def _check_plain(args, token: str) -> None:
    try:
        check_signature(token, args.get("signature", ""), args.get("timestamp", ""), args.get("nonce", ""))
    except InvalidSignatureException as exc:
        raise BadPush("signature does not match") from exc


def _parse(body) -> dict:
    text = body.decode() if isinstance(body, bytes) else str(body)
    try:
        if text.lstrip().startswith("<"):
            return dict(xmltodict.parse(text)["xml"])
        return json.loads(text)
    except (ValueError, KeyError, TypeError) as exc:
        raise BadPush("unreadable push body") from exc
