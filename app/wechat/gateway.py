"""One gateway for every WeChat call the product makes.

wechatpy does the HTTP, the JSON and the token storage. This module adds what wechatpy
1.8.18 lacks, through wechatpy's own `client.post`:

- `cgi-bin/stable_token`: several processes fetching the plain `cgi-bin/token` would
  invalidate each other's tokens; the stable token does not.
- `wxa/business/getuserphonenumber` (with a code), `wxa/msg_sec_check` and `wxa/media_check_async` version 2,
  `cgi-bin/message/subscribe/send` with `miniprogram_state`, and `wxa/getwxacodeunlimit`
  with `env_version` and `check_path`.
- at most two refresh-and-retries on 40001/42001 (wechatpy's own auto-retry is unbounded);
  a token still refused after that is a transient error, retried later. When another thread
  or process already refreshed the token, the retry uses theirs instead of forcing one more
  refresh (a forced refresh invalidates the token everyone else holds).
- one token fetch per burst: fetches take a lock (in Redis, and in the process), and whoever
  waited for it uses the token the first one fetched.
- Redis is a helper, never a gate: the token lives in Redis (wechatpy's `RedisStorage`) with a
  copy in each process, which is used while Redis cannot be reached; `jscode2session` needs
  no token at all and reads none.
- official-account template messages through wechatpy's `message.send_template`, with the
  official account's own stable token, when `WECHAT_OA_APPID`/`WECHAT_OA_SECRET` are set.

Without credentials the gateway runs in console mode: it calls nothing, logs what it would
have sent, and says so in its results.
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
import time
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import requests
from flask import current_app
from redis.exceptions import RedisError
from requests.adapters import HTTPAdapter
from wechatpy.client import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session import SessionStorage
from wechatpy.session.redisstorage import RedisStorage

from app.extensions import redis_connection

log = logging.getLogger("gongzhi.wechat")

TOKEN_ERRORS = {40001, 42001, 40014}
TRANSIENT_ERRORS = {-1, 45009}
QUOTA_ERROR = 43101
TOKEN_REFRESHES = 2  # a token refused again after one refresh is refreshed once more, then retried later
BAD_CODE_ERRORS = {40029, 40163, 40226, 45011}
# Redis drops our copy a little before WeChat does, so we never hand out a dying token.
TOKEN_MARGIN_SECONDS = 300
# After Redis failed, the token store uses the process's own copy for this long before trying Redis again.
REDIS_RETRY_SECONDS = 5.0
# How long a process waits for another one's token fetch before it fetches one itself.
FETCH_LOCK_SECONDS = 10


class WeChatError(Exception):
    """A WeChat call failed. `transient` says whether trying again later may succeed."""

    def __init__(self, errcode: int | None, errmsg: str, *, transient: bool):
        super().__init__(f"{errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg
        self.transient = transient


@dataclass
class SecCheck:
    """WeChat's answer to a content check: `suggest` is pass, review or risky; `label` says why."""

    suggest: str
    label: int | None = None
    trace_id: str | None = None


@dataclass
class Session:
    openid: str
    session_key: str
    unionid: str | None


class TokenStorage(SessionStorage):
    """wechatpy's `RedisStorage`, shared by every process, with a copy kept in this process.

    Every token read or written in Redis is also kept here with its expiry. When Redis cannot
    be reached the copy answers instead (for `REDIS_RETRY_SECONDS`, then Redis is tried
    again), so an outage of Redis never fails a WeChat call: at worst this process fetches a
    stable token of its own, which invalidates nobody's. Without Redis the copy is the store.
    """

    def __init__(self, redis=None, prefix: str = "gongzhi:wechat"):
        self.redis = redis
        self.shared = RedisStorage(redis, prefix=prefix) if redis is not None else None
        self._local: dict[str, tuple[object, float | None]] = {}
        self._down_until = 0.0
        self._guard = threading.Lock()

    # -- the shared store, when it answers ----------------------------------------------------
    def _usable(self) -> bool:
        return self.shared is not None and time.monotonic() >= self._down_until

    def _unreachable(self, exc: Exception) -> None:
        if time.monotonic() >= self._down_until:
            log.warning("WeChat token store (Redis) unreachable (%s); using this process's copy",
                        exc.__class__.__name__)
        self._down_until = time.monotonic() + REDIS_RETRY_SECONDS

    def get(self, key, default=None):
        if self._usable():
            try:
                value = self.shared.get(key)
                if value is None:
                    self._forget(key)
                    return default
                if self._copy(key) != value:  # fetched by another process: copy it with its expiry
                    ttl = self.redis.ttl(self.shared.key_name(key))
                    self._keep(key, value, ttl if ttl and ttl > 0 else None)
                return value
            except RedisError as exc:
                self._unreachable(exc)
        value = self._copy(key)
        return default if value is None else value

    def set(self, key, value, ttl=None):
        self._keep(key, value, ttl)
        if self._usable():
            try:
                self.shared.set(key, value, ttl)
            except RedisError as exc:
                self._unreachable(exc)

    def delete(self, key):
        self._forget(key)
        if self._usable():
            try:
                self.shared.delete(key)
            except RedisError as exc:
                self._unreachable(exc)

    @contextlib.contextmanager
    def fetch_lock(self, key: str):
        """Held across processes while one of them fetches a token (nothing if Redis cannot be reached)."""
        lock = None
        if self._usable():
            try:
                lock = self.redis.lock(self.shared.key_name(key) + ":fetching", timeout=FETCH_LOCK_SECONDS,
                                       blocking_timeout=FETCH_LOCK_SECONDS)
                if not lock.acquire():
                    lock = None  # the other fetch is taking too long: fetch one ourselves
            except RedisError as exc:
                self._unreachable(exc)
                lock = None
        try:
            yield
        finally:
            if lock is not None:
                with contextlib.suppress(Exception):  # expires by itself after FETCH_LOCK_SECONDS
                    lock.release()

    # -- this process's copy ------------------------------------------------------------------
    def _keep(self, key, value, ttl) -> None:
        with self._guard:
            self._local[key] = (value, time.monotonic() + ttl if ttl else None)

    def _copy(self, key):
        with self._guard:
            value, until = self._local.get(key, (None, None))
        if until is not None and time.monotonic() >= until:
            return None
        return value

    def _forget(self, key) -> None:
        with self._guard:
            self._local.pop(key, None)


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
        self._fetch_lock = threading.Lock()
        self.token_fetches = 0  # stable_token calls made by this client (doctor, tests)

    def fetch_access_token(self, force_refresh: bool = False, rejected: str | None = None):
        """Fetch a stable token, once per burst.

        Fetches wait for each other (a lock in the process, and one in Redis across processes).
        Whoever waited then uses the token the first one stored: a plain fetch when any token is
        stored, a forced refresh when the stored token is no longer the `rejected` one.
        """
        with self._fetch_lock, self.session.fetch_lock(self.access_token_key):
            current = self.session.get(self.access_token_key)
            if current and (not force_refresh or (rejected and current != rejected)):
                return {"access_token": current}
            return self._fetch_stable_token(force_refresh)

    def _fetch_stable_token(self, force_refresh: bool) -> dict:
        self.token_fetches += 1
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
        # The store's expiry is the token's (less a margin): wechatpy fetches when the key is gone.
        self.session.set(self.access_token_key, result["access_token"],
                         max(60, expires_in - TOKEN_MARGIN_SECONDS))
        return result

    def code_to_session(self, js_code: str) -> dict:
        """`sns/jscode2session` through wechatpy's request path, without an access token: it takes
        the app secret, so a login never reads the token store (nor waits for Redis)."""
        return self.get("sns/jscode2session", api_base_url=self.base_url, params={
            "appid": self.appid, "secret": self.secret, "js_code": js_code,
            "grant_type": "authorization_code",
            "access_token": None,  # present, so wechatpy adds none; requests drops a None parameter
        })


class WeChatGateway:
    def __init__(self, config: dict, redis=None):
        self.console = config["WECHAT_CONSOLE_MODE"]
        self.miniprogram_state = config["WECHAT_MINIPROGRAM_STATE"]
        self.client: _Client | None = None
        self.oa_client: _Client | None = None
        self.miniprogram_appid = config["WECHAT_APPID"]
        if not self.console:
            storage = TokenStorage(redis, prefix="gongzhi:wechat")
            connections = config.get("NOTIFY_POOL_SIZE", 10)
            self.client = _Client(config["WECHAT_APPID"], config["WECHAT_SECRET"],
                                  config["WECHAT_API_BASE_URL"], storage, config["WECHAT_TIMEOUT"], connections)
            if config.get("WECHAT_OA_APPID") and config.get("WECHAT_OA_SECRET"):
                self.oa_client = _Client(config["WECHAT_OA_APPID"], config["WECHAT_OA_SECRET"],
                                         config["WECHAT_API_BASE_URL"], storage, config["WECHAT_TIMEOUT"],
                                         connections)

    # -- plumbing ---------------------------------------------------------------------------
    def _call(self, fn, client: _Client | None = None):
        """Run one wechatpy call; on 40001/42001 refresh the token and retry, twice at most; map every failure."""
        client = client or self.client
        try:
            refreshes = 0
            while True:
                try:
                    return fn()
                except WeChatClientException as exc:
                    if exc.errcode not in TOKEN_ERRORS:
                        raise
                    if refreshes == TOKEN_REFRESHES:
                        raise WeChatError(exc.errcode, "微信接口凭证刷新后仍被拒绝，稍后重试", transient=True) from exc
                    refreshes += 1
                    client.fetch_access_token(force_refresh=True, rejected=_token_of(exc))
        except WeChatClientException as exc:
            if exc.errcode is None:  # HTTP-level failure, e.g. a 5xx from WeChat
                raise WeChatError(None, "微信服务返回错误", transient=True) from exc
            raise WeChatError(exc.errcode, str(exc.errmsg), transient=exc.errcode in TRANSIENT_ERRORS) from exc
        except requests.RequestException as exc:
            raise WeChatError(None, f"无法连接微信服务：{exc.__class__.__name__}", transient=True) from exc
        except RedisError as exc:  # the token store falls back on its own; anything else Redis is transient
            raise WeChatError(None, f"暂时无法读取微信接口凭证：{exc.__class__.__name__}", transient=True) from exc

    def _post(self, endpoint: str, payload: dict, **kwargs):
        return self._call(lambda: self.client.post(endpoint, data=payload,
                                                   api_base_url=self.client.base_url, **kwargs))

    # -- mini-program login -----------------------------------------------------------------
    def code_to_session(self, code: str) -> Session:
        if self.console:
            digest = hashlib.sha256(code.encode()).hexdigest()[:24]
            log.info("[wechat console] jscode2session(%s) -> console openid", code)
            return Session(openid=f"console-{digest}", session_key="console", unionid=None)
        result = self._call(lambda: self.client.code_to_session(code))
        return Session(openid=result["openid"], session_key=result["session_key"],
                       unionid=result.get("unionid"))

    def phone_number(self, code: str) -> str:
        if self.console:
            raise WeChatError(None, "控制台模式下无法获取微信手机号", transient=False)
        result = self._post("wxa/business/getuserphonenumber", {"code": code})
        info = result.get("phone_info") or {}
        return info.get("purePhoneNumber") or info.get("phoneNumber")

    # -- content security -------------------------------------------------------------------
    def msg_sec_check(self, openid: str | None, content: str, scene: int) -> SecCheck | None:
        """msgSecCheck v2 on `content` written by `openid`; None when it cannot be asked (console mode,
        or an author without a WeChat openid): the caller's policy decides what that means."""
        if self.console or not openid or openid.startswith("console-"):
            log.info("[wechat console] msg_sec_check not asked")
            return None
        result = self._post("wxa/msg_sec_check",
                            {"content": content, "version": 2, "scene": scene, "openid": openid})
        verdict = result.get("result") or {}
        return SecCheck(suggest=verdict.get("suggest", ""), label=verdict.get("label"),
                        trace_id=result.get("trace_id"))

    def media_check_async(self, openid: str | None, media_url: str, scene: int) -> str | None:
        """mediaCheckAsync v2 on an image at `media_url`: returns the trace_id whose result WeChat pushes
        later (to our message-push endpoint); None when it cannot be asked (console mode, no openid)."""
        if self.console or not openid or openid.startswith("console-"):
            log.info("[wechat console] media_check_async not asked")
            return None
        result = self._post("wxa/media_check_async", {"media_url": media_url, "media_type": 2, "version": 2,
                                                      "scene": scene, "openid": openid})
        return result.get("trace_id")

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
        gateway = WeChatGateway(current_app.config, redis_connection())
        ext["gongzhi.wechat"] = gateway
    return gateway
