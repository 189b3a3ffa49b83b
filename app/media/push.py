"""Our message-push endpoint (消息推送): WeChat sends the results of image checks here."""
from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, request

from app import edge
from app.media import checks
from app.wechat import push

log = logging.getLogger("gongzhi.media")

bp = Blueprint("wechat_push", __name__)
MEDIA_CHECK_EVENT = "wxa_media_check"


def _token() -> str | None:
    return current_app.config.get("WECHAT_PUSH_TOKEN")


@bp.get("/wechat/push")
def verify_server():
    """WeChat's server check when the push URL is configured."""
    if not _token():
        return Response("消息推送未配置", status=404)
    try:
        return Response(push.echo(request.args, _token()), mimetype="text/plain")
    except push.BadPush:
        return Response("签名无效", status=403)


@bp.post("/wechat/push")
@edge.unit_of_work
def receive():
    """A pushed event: only a signed one is read; WeChat wants "success" back, else it retries."""
    if not _token():
        return Response("消息推送未配置", status=404)
    try:
        event = push.read(request.args, request.get_data(), token=_token(),
                          aes_key=current_app.config.get("WECHAT_PUSH_AES_KEY"),
                          appid=current_app.config["WECHAT_APPID"] or "")
    except push.BadPush as exc:
        log.warning("refused a message push: %s", exc)
        return Response("签名无效", status=403)
    if event.get("Event") == MEDIA_CHECK_EVENT:
        checks.apply_result(event)
    return Response("success", mimetype="text/plain")
