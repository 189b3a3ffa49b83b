"""A fake WeChat API server on loopback that enforces the documented rules we rely on.

It speaks real HTTP, so wechatpy's own request path is exercised. It checks access tokens,
makes login and phone codes single-use, and can be told to fail the next calls with a given
errcode, an HTTP status or a delay.
"""
from __future__ import annotations

import io
import json
import secrets
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

import xmltodict
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

APPID = "wx_test_appid"
SECRET = "wx_test_secret"
# An official account of the same open-platform owner (template messages).
OA_APPID = "wx_test_oa_appid"
OA_SECRET = "wx_test_oa_secret"
APPS = {APPID: SECRET, OA_APPID: OA_SECRET}


@dataclass
class FakeState:
    latency: float = 0.0
    codes: dict[str, dict] = field(default_factory=dict)       # login code -> {openid, unionid}
    phone_codes: dict[str, str] = field(default_factory=dict)  # phone code -> phone
    used_codes: set[str] = field(default_factory=set)
    issued_session_keys: list[str] = field(default_factory=list)
    tokens: dict[str, float] = field(default_factory=dict)     # token -> expiry
    token_apps: dict[str, str] = field(default_factory=dict)   # token -> appid
    token_requests: list[dict] = field(default_factory=list)
    plain_token_requests: int = 0
    subscribe_messages: list[dict] = field(default_factory=list)
    template_messages: list[dict] = field(default_factory=list)
    wxacode_requests: list[dict] = field(default_factory=list)
    sec_checks: list[dict] = field(default_factory=list)
    media_checks: list[dict] = field(default_factory=list)  # each with the trace_id we answered
    # msgSecCheck answers risky for these words (label 20001: 时政/违法), review for the second set.
    risky_words: set[str] = field(default_factory=lambda: {"违禁词", "赌博"})
    review_words: set[str] = field(default_factory=lambda: {"待核实"})
    # endpoint -> list of injected failures, consumed one per call: {"errcode": n} | {"http": 500} | {"sleep": s}
    failures: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    lock: threading.Lock = field(default_factory=threading.Lock)


class FakeWeChat:
    def __init__(self):
        self.state = FakeState()
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        self.port = self._server.server_port
        self.base_url = f"http://127.0.0.1:{self.port}/"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> FakeWeChat:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()

    def reset(self) -> None:
        latency = self.state.latency
        self.state = FakeState(latency=latency)

    # -- test helpers ---------------------------------------------------------------------

    def issue_code(self, openid: str | None = None, unionid: str | None = None) -> str:
        code = "code_" + secrets.token_hex(8)
        self.state.codes[code] = {"openid": openid or "o_" + secrets.token_hex(8), "unionid": unionid}
        return code

    def issue_phone_code(self, phone: str) -> str:
        code = "phone_" + secrets.token_hex(8)
        self.state.phone_codes[code] = phone
        return code

    def fail_next(self, endpoint: str, *failures: dict) -> None:
        self.state.failures[endpoint].extend(failures)

    def invalidate_tokens(self) -> None:
        self.state.tokens.clear()

    # -- the server -----------------------------------------------------------------------

    def _wsgi(self, environ, start_response):
        request = Request(environ)
        response = self._handle(request)
        return response(environ, start_response)

    def _handle(self, request: Request) -> Response:
        endpoint = request.path.lstrip("/")
        state = self.state
        with state.lock:
            state.calls[endpoint] += 1
            failure = state.failures[endpoint].pop(0) if state.failures.get(endpoint) else None
        if state.latency:
            time.sleep(state.latency)
        if failure:
            if "sleep" in failure:
                time.sleep(failure["sleep"])
            elif "http" in failure:
                return Response("upstream error", status=failure["http"])
            elif "errcode" in failure:
                return _json({"errcode": failure["errcode"], "errmsg": failure.get("errmsg", "injected")})
        handler = ROUTES.get(endpoint)
        if handler is None:
            return _json({"errcode": 404, "errmsg": f"unknown endpoint {endpoint}"}, status=404)
        return handler(self, request)

    def _check_token(self, request: Request, appid: str = APPID) -> Response | None:
        token = request.args.get("access_token")
        expiry = self.state.tokens.get(token or "")
        if expiry is None or self.state.token_apps.get(token, APPID) != appid:
            return _json({"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"})
        if expiry < time.time():
            return _json({"errcode": 42001, "errmsg": "access_token expired"})
        return None

    def stable_token(self, request: Request) -> Response:
        body = _body(request) or {}
        self.state.token_requests.append(body)
        appid = body.get("appid")
        if appid not in APPS or body.get("secret") != APPS[appid]:
            return _json({"errcode": 40013, "errmsg": "invalid appid"})
        with self.state.lock:
            # Each app has one live token; a new one invalidates only that app's previous token.
            mine = {t for t, owner in self.state.token_apps.items() if owner == appid}
            live = [t for t, exp in self.state.tokens.items() if exp > time.time() and t in mine]
            if live and not body.get("force_refresh"):
                token = live[0]
            else:
                token = "tok_" + secrets.token_hex(12)
                tokens = {t: exp for t, exp in self.state.tokens.items() if t not in mine}
                tokens[token] = time.time() + 7200
                self.state.tokens = tokens
                self.state.token_apps[token] = appid
        return _json({"access_token": token, "expires_in": 7200})

    def plain_token(self, request: Request) -> Response:
        # The plain endpoint invalidates every other process's token: we must never call it.
        self.state.plain_token_requests += 1
        return _json({"errcode": 40164, "errmsg": "the project must use stable_token"})

    def jscode2session(self, request: Request) -> Response:
        if request.args.get("appid") != APPID or request.args.get("secret") != SECRET:
            return _json({"errcode": 40013, "errmsg": "invalid appid"})
        code = request.args.get("js_code", "")
        with self.state.lock:
            if code in self.state.used_codes:
                return _json({"errcode": 40163, "errmsg": "code been used"})
            info = self.state.codes.get(code)
            if info is None:
                return _json({"errcode": 40029, "errmsg": "invalid code"})
            self.state.used_codes.add(code)
        body = {"openid": info["openid"], "session_key": "sk_" + secrets.token_hex(12)}
        self.state.issued_session_keys.append(body["session_key"])
        if info.get("unionid"):
            body["unionid"] = info["unionid"]
        return _json(body)

    def phone(self, request: Request) -> Response:
        if (bad := self._check_token(request)) is not None:
            return bad
        code = (_body(request) or {}).get("code", "")
        with self.state.lock:
            if code in self.state.used_codes or code not in self.state.phone_codes:
                return _json({"errcode": 40029, "errmsg": "invalid code"})
            self.state.used_codes.add(code)
        phone = self.state.phone_codes[code]
        return _json({"errcode": 0, "errmsg": "ok", "phone_info": {
            "phoneNumber": phone, "purePhoneNumber": phone, "countryCode": "86"}})

    def msg_sec_check(self, request: Request) -> Response:
        if (bad := self._check_token(request)) is not None:
            return bad
        body = _body(request) or {}
        self.state.sec_checks.append(body)
        if body.get("version") != 2 or not body.get("openid") or body.get("scene") not in (1, 2, 3, 4):
            return _json({"errcode": 47001, "errmsg": "data format error"})
        content = body.get("content", "")
        risky = any(word in content for word in self.state.risky_words)
        review = not risky and any(word in content for word in self.state.review_words)
        suggest = "risky" if risky else "review" if review else "pass"
        label = 20001 if risky else 20006 if review else 100
        return _json({"errcode": 0, "errmsg": "ok", "trace_id": secrets.token_hex(12),
                      "result": {"suggest": suggest, "label": label},
                      "detail": [{"strategy": "content_model", "errcode": 0, "suggest": suggest, "label": label}]})

    def media_check_async(self, request: Request) -> Response:
        if (bad := self._check_token(request)) is not None:
            return bad
        body = _body(request) or {}
        if (body.get("version") != 2 or not body.get("openid") or body.get("media_type") not in (1, 2)
                or body.get("scene") not in (1, 2, 3, 4) or not str(body.get("media_url", "")).startswith("http")):
            return _json({"errcode": 47001, "errmsg": "data format error"})
        trace_id = "trace_" + secrets.token_hex(10)
        self.state.media_checks.append({**body, "trace_id": trace_id})
        return _json({"errcode": 0, "errmsg": "ok", "trace_id": trace_id})

    def media_check_push(self, trace_id: str, suggest: str, *, token: str, aes_key: str | None = None,
                         label: int = 20002) -> tuple[dict, bytes]:
        """The message push WeChat sends with a media check's result, signed as WeChat signs it:
        (query arguments, body) in plain mode, or in safe mode (encrypted) when `aes_key` is given.
        The app under test is not served over HTTP, so the test sends them through its client."""
        event = {"ToUserName": "gh_test", "FromUserName": "o_system", "CreateTime": int(time.time()),
                 "MsgType": "event", "Event": "wxa_media_check", "appid": APPID, "trace_id": trace_id,
                 "version": 2, "errcode": 0, "errmsg": "ok",
                 "detail": [{"strategy": "content_model", "errcode": 0, "suggest": suggest, "label": label}],
                 "result": {"suggest": suggest, "label": label}}
        timestamp, nonce = str(int(time.time())), secrets.token_hex(6)
        signer = WeChatSigner()
        signer.add_data(token, timestamp, nonce)
        args = {"signature": signer.signature, "timestamp": timestamp, "nonce": nonce}
        plain = json.dumps(event, ensure_ascii=False)
        if not aes_key:
            return args, plain.encode()
        envelope = WeChatCrypto(token, aes_key, APPID).encrypt_message(plain, nonce, timestamp)
        encrypted = xmltodict.parse(envelope)["xml"]
        args |= {"encrypt_type": "aes", "msg_signature": encrypted["MsgSignature"]}
        return args, json.dumps({"ToUserName": "gh_test", "Encrypt": encrypted["Encrypt"]}).encode()

    def subscribe_send(self, request: Request) -> Response:
        if (bad := self._check_token(request)) is not None:
            return bad
        body = _body(request) or {}
        problems = validate_subscribe(body)
        if problems:
            return _json({"errcode": 47003, "errmsg": "; ".join(problems)})
        with self.state.lock:
            self.state.subscribe_messages.append(body)
        return _json({"errcode": 0, "errmsg": "ok", "msgid": secrets.randbelow(10**9)})

    def template_send(self, request: Request) -> Response:
        if (bad := self._check_token(request, OA_APPID)) is not None:
            return bad
        body = _body(request) or {}
        problems = validate_template(body)
        if problems:
            return _json({"errcode": 47003, "errmsg": "; ".join(problems)})
        with self.state.lock:
            self.state.template_messages.append(body)
        return _json({"errcode": 0, "errmsg": "ok", "msgid": secrets.randbelow(10**9)})

    def wxacode(self, request: Request) -> Response:
        if (bad := self._check_token(request)) is not None:
            return bad
        body = _body(request) or {}
        self.state.wxacode_requests.append(body)
        scene = body.get("scene", "")
        if not scene or len(scene) > 32 or any(not (33 <= ord(c) <= 126) for c in scene):
            return _json({"errcode": 40169, "errmsg": "invalid length for scene"})
        if str(body.get("page", "")).startswith("/"):
            return _json({"errcode": 41030, "errmsg": "invalid page"})
        if body.get("env_version") not in ("release", "trial", "develop"):
            return _json({"errcode": 40097, "errmsg": "invalid env_version"})
        from PIL import Image

        buffer = io.BytesIO()
        Image.new("RGB", (body.get("width", 430),) * 2, (20, 120, 60)).save(buffer, "JPEG")
        return Response(buffer.getvalue(), mimetype="image/jpeg")


def validate_subscribe(body: dict) -> list[str]:
    """The field rules WeChat enforces on subscribe messages."""
    problems = []
    if not body.get("touser") or not body.get("template_id"):
        problems.append("touser and template_id are required")
    page = body.get("page", "")
    if page.startswith("/"):
        problems.append("page must not start with /")
    if body.get("miniprogram_state") not in ("developer", "trial", "formal"):
        problems.append("invalid miniprogram_state")
    return problems + _field_problems(body.get("data") or {})


def validate_template(body: dict) -> list[str]:
    """Official-account template messages: the same keyword rules, and a mini-program page without /."""
    problems = []
    if not body.get("touser") or not body.get("template_id"):
        problems.append("touser and template_id are required")
    mini = body.get("miniprogram") or {}
    if mini and (mini.get("appid") != APPID or str(mini.get("pagepath", "")).startswith("/")):
        problems.append("invalid miniprogram appid or pagepath")
    return problems + _field_problems(body.get("data") or {})


def _field_problems(data: dict) -> list[str]:
    problems = []
    for key, item in data.items():
        value = str(item.get("value", ""))
        kind = key.rstrip("0123456789")
        if kind == "thing" and len(value) > 20:
            problems.append(f"{key} longer than 20")
        if kind == "phrase" and (len(value) > 5 or not all("\u4e00" <= c <= "\u9fff" for c in value)):
            problems.append(f"{key} is not at most 5 Chinese characters")
        if kind == "character_string" and (len(value) > 32 or not value.isascii()):
            problems.append(f"{key} longer than 32 or not ASCII")
        if kind == "name" and len(value) > (10 if not value.isascii() else 20):
            problems.append(f"{key} longer than a name")
        if kind in ("thing", "phrase", "name", "character_string", "time") and not value.strip():
            problems.append(f"{key} is empty")
        if kind == "time" and not _is_wechat_time(value):
            problems.append(f"{key} is not a time")
    return problems


def _is_wechat_time(value: str) -> bool:
    import re

    return bool(re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日( \d{1,2}:\d{2})?", value))


def _body(request: Request) -> dict | None:
    """WeChat reads the body as JSON whatever the Content-Type (wechatpy sends none)."""
    try:
        return json.loads(request.get_data() or b"{}")
    except ValueError:
        return None


def _json(body: dict, status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json")


ROUTES = {
    "cgi-bin/stable_token": FakeWeChat.stable_token,
    "cgi-bin/token": FakeWeChat.plain_token,
    "sns/jscode2session": FakeWeChat.jscode2session,
    "wxa/business/getuserphonenumber": FakeWeChat.phone,
    "wxa/msg_sec_check": FakeWeChat.msg_sec_check,
    "wxa/media_check_async": FakeWeChat.media_check_async,
    "cgi-bin/message/subscribe/send": FakeWeChat.subscribe_send,
    "cgi-bin/message/template/send": FakeWeChat.template_send,
    "wxa/getwxacodeunlimit": FakeWeChat.wxacode,
}
