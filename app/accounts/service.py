"""Login, tokens, lockout and user management: the verbs of the accounts domain."""
from __future__ import annotations

import functools
import math
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import bindparam, select
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.security import check_password_hash, generate_password_hash

from app.accounts.models import ROLES, SYSTEM_ADMIN, AuthSession, LoginThrottle, RoleGrant, User
from app.areas.models import Area, Department
from app.content_safety import policy
from app.core import audit, crypto
from app.core.db import existing_row
from app.core.errors import Invalid, NotFound, ServiceUnavailable, TooManyRequests, Unauthorized
from app.core.ids import new_token
from app.core.scoping import Actor, Grant
from app.core.time import utcnow
from app.extensions import db
from app.wechat import WeChatError, get_wechat
from app.wechat.gateway import BAD_CODE_ERRORS


class TokenInvalid(Unauthorized):
    message = "登录已失效，请重新登录。"


CONSOLE_CLIENT = "console"


# -- tokens ---------------------------------------------------------------------------------

def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="gongzhi-token")


def issue_token(user: User, client: str = "mp") -> tuple[str, int]:
    ttl = current_app.config["TOKEN_TTL_SECONDS"]
    session = AuthSession(token_id=new_token(), user_id=user.id, client=client,
                          expires_at=utcnow() + timedelta(seconds=ttl))
    db.session.add(session)
    db.session.flush()
    return _serializer().dumps({"sid": session.token_id}), ttl


_sessions, _users, _grants = AuthSession.__table__, User.__table__, RoleGrant.__table__
_USER_COLUMNS = [c.name for c in _users.columns]
_GRANT_COLUMNS = [c.name for c in _grants.columns]
# Every authenticated request runs this: the session, its user and the user's grants, one row per
# grant, as one prebuilt Core statement (building ORM objects through a joined eager load cost
# more than the query; bench/RESULTS.md).
_TOKEN_USER = (
    select(_sessions.c.expires_at, _sessions.c.revoked_at, *_users.columns, *_grants.columns)
    .select_from(_sessions.join(_users, _users.c.id == _sessions.c.user_id)
                 .outerjoin(_grants, _grants.c.user_id == _users.c.id))
    .where(_sessions.c.token_id == bindparam("sid"), _sessions.c.client != CONSOLE_CLIENT)
    .order_by(_grants.c.id)
)


def user_for_token(token: str) -> User:
    try:
        payload = _serializer().loads(token, max_age=current_app.config["TOKEN_TTL_SECONDS"])
    except SignatureExpired as exc:
        raise TokenInvalid("登录已过期，请重新登录。") from exc
    except BadSignature as exc:
        raise TokenInvalid() from exc
    rows = db.session.execute(_TOKEN_USER, {"sid": payload.get("sid")}).all()
    if not rows:
        raise TokenInvalid()
    expires_at, revoked_at = rows[0][0], rows[0][1]
    if revoked_at is not None:
        raise TokenInvalid()
    if expires_at <= utcnow():
        raise TokenInvalid("登录已过期，请重新登录。")
    user = _attach(rows)
    if not user.is_active:
        raise TokenInvalid("账号已停用。")
    return user


def _attach(rows) -> User:
    """The user (with grants) as a persistent object of this session, built from the rows without
    another query. If the session already holds that user, that object is the one to use."""
    width = len(_USER_COLUMNS)
    values = dict(zip(_USER_COLUMNS, rows[0][2:2 + width], strict=True))
    session = db.session()
    held = session.identity_map.get(session.identity_key(User, (values["id"],)))
    if held is not None:
        return held
    grants = [existing_row(RoleGrant, dict(zip(_GRANT_COLUMNS, row[2 + width:], strict=True)))
              for row in rows if row[2 + width] is not None]
    user = existing_row(User, values)
    set_committed_value(user, "grants", grants)
    session.add(user)  # a row that exists: attached as loaded, nothing is written
    for grant in grants:
        session.add(grant)
        set_committed_value(grant, "user", user)
    return user


def revoke_token(token: str) -> None:
    try:
        payload = _serializer().loads(token)
    except BadSignature as exc:
        raise TokenInvalid() from exc
    session = db.session.scalar(select(AuthSession).where(AuthSession.token_id == payload.get("sid")))
    if session is not None and session.revoked_at is None:
        session.revoked_at = utcnow()


def person_names(user_ids) -> dict[int, str]:
    """{user id: the name staff see (real name, else display name, else username)}."""
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    return {u.id: u.person_name for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


def actor_for(user: User | None) -> Actor:
    if user is None:
        return Actor.anonymous()
    return Actor(user_id=user.id, grants=tuple(
        Grant(role=g.role, area_path=g.area_path, area_id=g.area_id, department_id=g.department_id)
        for g in user.grants
    ))


# -- WeChat login ---------------------------------------------------------------------------

def login_with_wechat(code: str) -> User:
    """jscode2session. The session_key is neither stored nor returned: nothing here uses it."""
    try:
        wx_session = get_wechat().code_to_session(code)
    except WeChatError as exc:
        if exc.errcode in BAD_CODE_ERRORS:
            raise Unauthorized("微信登录凭证无效或已使用，请重新进入小程序后再试。",
                               errors={"code": [f"微信返回错误 {exc.errcode}"]}) from exc
        if exc.transient:
            raise ServiceUnavailable("暂时无法连接微信服务，请稍后再试。") from exc
        raise Unauthorized("微信登录失败，请稍后再试。", errors={"code": [f"微信返回错误 {exc.errcode}"]}) from exc
    user = db.session.scalar(select(User).where(User.openid == wx_session.openid))
    if user is None:
        user = User(openid=wx_session.openid)
        db.session.add(user)
    if wx_session.unionid:
        user.unionid = wx_session.unionid
    db.session.flush()
    return user


def bind_phone(user: User, code: str) -> str:
    try:
        phone = get_wechat().phone_number(code)
    except WeChatError as exc:
        if exc.transient:
            raise ServiceUnavailable("暂时无法连接微信服务，请稍后再试。") from exc
        raise Invalid("手机号授权凭证无效或已使用，请重新授权。", errors={"code": [str(exc.errcode)]}) from exc
    if not phone:
        raise Invalid("微信没有返回手机号。")
    set_phone(user, phone)
    return crypto.mask_phone(phone)


def set_phone(user: User, phone: str) -> None:
    user.phone_encrypted = crypto.encrypt(phone)
    user.phone_last4 = phone[-4:]
    user.phone_hash = crypto.lookup_hash(phone)


def portal_resident(phone: str, name: str = "") -> User:
    """A resident of the web portal, who has no WeChat: known by the phone number they give."""
    phone = normalise_phone(phone)
    name = name.strip()[:32]
    policy.screen("display_name", None, name, "name")  # the portal has no openid: the unchecked rule
    user = db.session.scalar(select(User).where(User.phone_hash.in_(crypto.lookup_hashes(phone)),
                                                User.openid.is_(None), User.username.is_(None)))
    if user is None:
        user = User(display_name=name.strip()[:32])
        set_phone(user, phone)
        db.session.add(user)
        db.session.flush()
    elif name and not user.display_name:
        user.display_name = name.strip()[:32]
    return user


def normalise_phone(phone: str) -> str:
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if len(digits) != 11 or not digits.startswith("1"):
        raise Invalid("请填写正确的 11 位手机号码。", errors={"phone": ["手机号格式不正确"]})
    return digits


def phone_of(user: User) -> str | None:
    return crypto.decrypt(user.phone_encrypted)


# -- staff login ----------------------------------------------------------------------------

class SignInFailed(Unauthorized):
    """One message for every failed sign-in: an unknown username and a wrong password read the same."""

    message = "用户名或密码错误。"
    keeps_changes = True  # the failure counts towards the throttle even though the request fails


def login_with_password(username: str, password: str, client_address: str | None) -> User:
    """Check a username and password. Failures are counted per username and client address; after
    LOGIN_FREE_FAILURES of them each further try must wait twice as long as the one before, up to
    LOGIN_MAX_DELAY_SECONDS. Nobody is locked out, and a username that does not exist behaves exactly
    like one that does (same message, same throttle, same work)."""
    now = utcnow()
    key = crypto.lookup_hash(f"signin|{username.strip().lower()}|{client_address or ''}")
    throttle = db.session.scalar(select(LoginThrottle).where(LoginThrottle.key_hash == key))
    if throttle is not None and throttle.next_try_at is not None and throttle.next_try_at > now:
        seconds = max(1, math.ceil((throttle.next_try_at - now).total_seconds()))
        raise TooManyRequests(f"尝试过于频繁，请 {_wait_text(seconds)}后再试。")
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None or not user.password_hash:
        # Same work as a real check, so response time does not reveal which usernames exist.
        check_password_hash(_dummy_hash(current_app.config["PASSWORD_HASH_METHOD"]), password)
        _count_failure(throttle, key, now)
        raise SignInFailed()
    if not check_password_hash(user.password_hash, password):
        _count_failure(throttle, key, now)
        raise SignInFailed()
    if not user.is_active:
        raise Unauthorized("账号已停用。")
    if throttle is not None:
        db.session.delete(throttle)
    return user


def _count_failure(throttle: LoginThrottle | None, key: str, now) -> None:
    if throttle is None:
        throttle = LoginThrottle(key_hash=key, failures=0)
        db.session.add(throttle)
    throttle.failures += 1
    beyond = throttle.failures - current_app.config["LOGIN_FREE_FAILURES"]
    if beyond >= 0:
        delay = min(2 ** min(beyond, 30), current_app.config["LOGIN_MAX_DELAY_SECONDS"])
        throttle.next_try_at = now + timedelta(seconds=delay)
    db.session.flush()


def _wait_text(seconds: int) -> str:
    return f"{seconds} 秒" if seconds < 60 else f"{math.ceil(seconds / 60)} 分钟"


# -- console sessions -------------------------------------------------------------------------
# The console's cookie holds only an opaque session id: not a bearer token, which would also open
# the API. The session ends at logout, at its expiry, or after CONSOLE_IDLE_SECONDS without a request.

def open_console_session(user: User) -> str:
    now = utcnow()
    row = AuthSession(token_id=new_token(), user_id=user.id, client=CONSOLE_CLIENT, last_seen_at=now,
                      expires_at=now + timedelta(seconds=current_app.config["TOKEN_TTL_SECONDS"]))
    db.session.add(row)
    db.session.flush()
    return row.token_id


def user_for_console_session(sid: str) -> User:
    row = _console_session(sid)
    now = utcnow()
    if row is None or row.revoked_at is not None:
        raise TokenInvalid()
    if row.expires_at <= now:
        raise TokenInvalid("登录已过期，请重新登录。")
    idle = timedelta(seconds=current_app.config["CONSOLE_IDLE_SECONDS"])
    if row.last_seen_at is None or now - row.last_seen_at > idle:
        row.revoked_at = now
        raise TokenInvalid("长时间未操作，请重新登录。")
    if now - row.last_seen_at > timedelta(minutes=1):
        row.last_seen_at = now
    if not row.user.is_active:
        raise TokenInvalid("账号已停用。")
    return row.user


def _console_session(sid: str) -> AuthSession | None:
    return db.session.scalar(select(AuthSession).where(AuthSession.token_id == sid,
                                                       AuthSession.client == CONSOLE_CLIENT))


def close_console_session(sid: str | None) -> None:
    if not sid:
        return
    row = _console_session(sid)
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()


@functools.lru_cache(maxsize=4)
def _dummy_hash(method: str) -> str:
    return generate_password_hash("not-a-real-password", method=method)


def _hash_password(password: str) -> str:
    # scrypt by default: slow and memory-hard, from werkzeug, so no extra dependency.
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def create_user(username: str, password: str, *, role: str | None = None, area_id: int | None = None,
                display_name: str = "", department_id: int | None = None, phone: str | None = None) -> User:
    if len(password) < 8:
        raise Invalid("密码至少 8 位。", errors={"password": ["密码至少 8 位。"]})
    if db.session.scalar(select(User.id).where(User.username == username)):
        raise Invalid("用户名已存在。", errors={"username": ["用户名已存在。"]})
    user = User(username=username, password_hash=_hash_password(password),
                display_name=display_name or username)
    if phone:
        set_phone(user, phone)
    db.session.add(user)
    db.session.flush()
    audit.act("accounts.create_user", user_id=user.id)
    if role:
        grant_role(user, role, area_id=area_id, department_id=department_id)
    return user


def grant_role(user: User, role: str, *, area_id: int | None = None,
               department_id: int | None = None) -> RoleGrant:
    if role not in ROLES:
        raise Invalid(f"未知角色：{role}", errors={"role": [f"应为以下之一：{'、'.join(ROLES)}"]})
    path = "/"
    if department_id is not None:
        department = db.session.get(Department, department_id)
        if department is None:
            raise NotFound("部门不存在。")
        area_id = area_id or department.area_id
    if role != SYSTEM_ADMIN:
        if area_id is None:
            raise Invalid("该角色必须指定管辖区域。", errors={"area_id": ["必填"]})
        area = db.session.get(Area, area_id)
        if area is None:
            raise NotFound("区域不存在。")
        path = area.path
    existing = db.session.scalar(select(RoleGrant).where(
        RoleGrant.user_id == user.id, RoleGrant.role == role, RoleGrant.area_id.is_(area_id)
        if area_id is None else RoleGrant.area_id == area_id,
        RoleGrant.department_id.is_(None) if department_id is None else RoleGrant.department_id == department_id,
    ))
    if existing:
        return existing
    grant = RoleGrant(user_id=user.id, role=role, area_id=area_id, area_path=path, department_id=department_id)
    db.session.add(grant)
    user.grants.append(grant)
    db.session.flush()
    audit.act("accounts.grant_role", user_id=user.id, role=role, area_id=area_id, department_id=department_id)
    return grant
