"""One gateway for every WeChat call the product makes.

wechatpy does the HTTP, the JSON and the token storage. This module adds what wechatpy
1.8.18 lacks, through wechatpy's own `client.post`:

- `cgi-bin/stable_token`: several processes fetching the plain `cgi-bin/token` would
  invalidate each other's tokens; the stable token does not.
- `wxa/business/getuserphonenumber` (with a code), `wxa/msg_sec_check` version 2,
  `cgi-bin/message/subscribe/send` with `miniprogram_state`, and `wxa/getwxacodeunlimit`
  with `env_version` and `check_path`.
- a single refresh-and-retry on 40001/42001 (wechatpy's own auto-retry is unbounded). When
  another thread or process already refreshed the token, the retry uses theirs instead of
  forcing one more refresh (a forced refresh invalidates the token everyone else holds).
- official-account template messages through wechatpy's `message.send_template`, with the
  official account's own stable token, when `WECHAT_OA_APPID`/`WECHAT_OA_SECRET` are set.

Without credentials the gateway runs in console mode: it calls nothing, logs what it would
have sent, and says so in its results.
"""
from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import requests
from flask import current_app
from requests.adapters import HTTPAdapter
from wechatpy.client import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session.memorystorage import MemoryStorage
from wechatpy.session.redisstorage import RedisStorage

log = logging.getLogger("gongzhi.wechat")

TOKEN_ERRORS = {40001, 42001, 40014}
TRANSIENT_ERRORS = {-1, 45009}
QUOTA_ERROR = 43101
BAD_CODE_ERRORS = {40029, 40163, 40226, 45011}
# Redis drops our copy a little before WeChat does, so we never hand out a dying token.
TOKEN_MARGIN_SECONDS = 300


class WeChatError(Exception):
    """A WeChat call failed. `transient` says whether trying again later may succeed."""

    def __init__(self, errcode: int | None, errmsg: str, *, transient: bool):
        super().__init__(f"{errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg
        self.transient = transient


@dataclass
class Session:
    openid: str
    session_key: str
    unionid: str | None


class _Client(WeChatClient):
    """wechatpy's client pointed at a configurable base URL, with the stable token."""

    def __init__(self, appid: str, secret: str, base_url: str, storage, timeout: float, connections: int = 10):
        super().__init__(appid, secret, session=storage, timeout=timeout, auto_retry=False)
        # Keep-alive for every thread of the delivery pool (requests keeps 10 connections by default).
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=max(10, connections))
        self._http.mount("http://", adapter)
        self._http.mount("https://", adapter)
        self.base_url = base_url
        self.API_BASE_URL = base_url + "cgi-bin/"
        self.wxa.API_BASE_URL = base_url

    def fetch_access_token(self, force_refresh: bool = False):
        res = self._http.post(
            self.base_url + "cgi-bin/stable_token",
            json={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret,
                  "force_refresh": force_refresh},
            timeout=self.timeout,
        )
        try:
            res.raise_for_status()
        except requests.RequestException as exc:
            raise WeChatClientException(None, None, client=self, request=exc.request,
                                        response=exc.response) from exc
        result = res.json()
        if result.get("errcode"):
            raise WeChatClientException(result["errcode"], result.get("errmsg", ""), client=self,
                                        request=res.request, response=res)
        expires_in = int(result.get("expires_in", 7200))
        self.session.set(self.access_token_key, result["access_token"],
                         max(60, expires_in - TOKEN_MARGIN_SECONDS))
        self.expires_at = int(time.time()) + expires_in - TOKEN_MARGIN_SECONDS
        return result


class WeChatGateway:
    def __init__(self, config: dict, redis=None):
        self.console = config["WECHAT_CONSOLE_MODE"]
        self.miniprogram_state = config["WECHAT_MINIPROGRAM_STATE"]
        self.client: _Client | None = None
        self.oa_client: _Client | None = None
        self.miniprogram_appid = config["WECHAT_APPID"]
        self._refresh_lock = threading.Lock()
        if not self.console:
            storage = RedisStorage(redis, prefix="gongzhi:wechat") if redis is not None else MemoryStorage()
            connections = config.get("NOTIFY_POOL_SIZE", 10)
            self.client = _Client(config["WECHAT_APPID"], config["WECHAT_SECRET"],
                                  config["WECHAT_API_BASE_URL"], storage, config["WECHAT_TIMEOUT"], connections)
            if config.get("WECHAT_OA_APPID") and config.get("WECHAT_OA_SECRET"):
                self.oa_client = _Client(config["WECHAT_OA_APPID"], config["WECHAT_OA_SECRET"],
                                         config["WECHAT_API_BASE_URL"], storage, config["WECHAT_TIMEOUT"],
                                         connections)

    # -- plumbing ---------------------------------------------------------------------------

    def _call(self, fn, client: _Client | None = None):
        """Run one wechatpy call, refreshing the token once on 40001/42001; map every failure."""
        client = client or self.client
        try:
            try:
                return fn()
            except WeChatClientException as exc:
                if exc.errcode in TOKEN_ERRORS:
                    self._refresh(client, _token_of(exc))
                    return fn()
                raise
        except WeChatClientException as exc:
            if exc.errcode is None:  # HTTP-level failure, e.g. a 5xx from WeChat
                raise WeChatError(None, "微信服务返回错误", transient=True) from exc
            raise WeChatError(exc.errcode, str(exc.errmsg), transient=exc.errcode in TRANSIENT_ERRORS) from exc
        except requests.RequestException as exc:
            raise WeChatError(None, f"无法连接微信服务：{exc.__class__.__name__}", transient=True) from exc

    def _refresh(self, client: _Client, rejected: str | None) -> None:
        """Force a new token, unless someone replaced the rejected one meanwhile."""
        with self._refresh_lock:
            current = client.session.get(client.access_token_key)
            if rejected and current and current != rejected:
                return
            client.fetch_access_token(force_refresh=True)

    def _post(self, endpoint: str, payload: dict, **kwargs):
        return self._call(lambda: self.client.post(endpoint, data=payload,
                                                   api_base_url=self.client.base_url, **kwargs))

    # -- mini-program login -----------------------------------------------------------------

    def code_to_session(self, code: str) -> Session:
        if self.console:
            digest = hashlib.sha256(code.encode()).hexdigest()[:24]
            log.info("[wechat console] jscode2session(%s) -> console openid", code)
            return Session(openid=f"console-{digest}", session_key="console", unionid=None)
        result = self._call(lambda: self.client.wxa.code_to_session(code))
        return Session(openid=result["openid"], session_key=result["session_key"],
                       unionid=result.get("unionid"))

    def phone_number(self, code: str) -> str:
        if self.console:
            raise WeChatError(None, "控制台模式下无法获取微信手机号", transient=False)
        result = self._post("wxa/business/getuserphonenumber", {"code": code})
        info = result.get("phone_info") or {}
        return info.get("purePhoneNumber") or info.get("phoneNumber")

    # -- content security -------------------------------------------------------------------

    def msg_sec_check(self, openid: str | None, content: str, scene: int = 2) -> str:
        """Return WeChat's suggestion: `pass`, `review` or `risky`."""
        if self.console or not openid or openid.startswith("console-"):
            log.info("[wechat console] msg_sec_check skipped")
            return "pass"
        result = self._post("wxa/msg_sec_check",
                            {"content": content, "version": 2, "scene": scene, "openid": openid})
        return (result.get("result") or {}).get("suggest", "pass")

    # -- messages ---------------------------------------------------------------------------

    def send_subscribe(self, openid: str, template_id: str, data: dict, page: str) -> dict:
        payload = {"touser": openid, "template_id": template_id, "page": page,
                   "data": {k: {"value": v} for k, v in data.items()},
                   "miniprogram_state": self.miniprogram_state, "lang": "zh_CN"}
        if self.console:
            log.info("[wechat console] subscribe message %s", payload)
            return {"console": True, "payload": payload}
        return self._post("cgi-bin/message/subscribe/send", payload)

    @property
    def official_account(self) -> bool:
        return self.oa_client is not None

    def send_template(self, oa_openid: str, template_id: str, data: dict, page: str) -> dict:
        """An official-account template message that opens the mini-program at `page`."""
        mini_program = {"appid": self.miniprogram_appid, "pagepath": page.lstrip("/")}
        values = {k: {"value": v} for k, v in data.items()}
        if self.oa_client is None:
            log.info("[wechat console] template message to %s: %s %s", oa_openid, template_id, values)
            return {"console": True}
        return self._call(lambda: self.oa_client.message.send_template(
            oa_openid, template_id, values, mini_program=mini_program), client=self.oa_client)

    # -- mini-program codes -----------------------------------------------------------------

    def wxacode_unlimited(self, scene: str, page: str, env_version: str, check_path: bool = True,
                          width: int = 430) -> bytes:
        if self.console:
            raise WeChatError(None, "控制台模式下无法生成小程序码", transient=False)
        payload = {"scene": scene, "page": page.lstrip("/"), "env_version": env_version,
                   "check_path": check_path, "width": width}
        result = self._post("wxa/getwxacodeunlimit", payload)
        if isinstance(result, dict):  # wechatpy decoded JSON: an error without an errcode
            raise WeChatError(result.get("errcode"), str(result), transient=False)
        return result.content


def _token_of(exc: WeChatClientException) -> str | None:
    """The access token the failed request carried."""
    url = getattr(exc.request, "url", None) or ""
    return (parse_qs(urlsplit(url).query).get("access_token") or [None])[0]


def get_wechat() -> WeChatGateway:
    """The app's gateway, created once per app so its HTTP session and token are reused."""
    ext = current_app.extensions
    gateway = ext.get("gongzhi.wechat")
    if gateway is None:
        from tasks import redis_connection

        gateway = WeChatGateway(current_app.config, redis_connection())
        ext["gongzhi.wechat"] = gateway
    return gateway
