"""Configuration read from the environment, with an embedded default that needs nothing installed."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SECRET_KEY = "dev-insecure-secret-key-change-me"
# Development and tests only: production refuses to start without DATA_KEY (never derived from SECRET_KEY).
DEVELOPMENT_DATA_KEY = "dev-insecure-data-key-change-me"


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


class ConfigError(RuntimeError):
    """Raised when the environment describes a configuration that must not start."""


def load_config(overrides: dict | None = None) -> dict:
    """Build the Flask config dict from the environment, then apply explicit overrides."""
    env = os.environ
    instance_dir = Path(env.get("INSTANCE_DIR") or ROOT / "instance")
    cfg: dict = {
        "ENV_NAME": env.get("GONGZHI_ENV", "development"),
        "SECRET_KEY": env.get("SECRET_KEY") or DEFAULT_SECRET_KEY,
        # Encrypts personal data at rest. Several keys, comma separated, rotate: the first encrypts,
        # all decrypt; `flask rekey-personal-data` moves everything to the first (app/core/crypto.py).
        "DATA_KEY": env.get("DATA_KEY") or None,
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(
            env.get("DATABASE_URL") or f"sqlite:///{instance_dir / 'gongzhi.sqlite3'}"
        ),
        # A streaming read replica for statistics, dashboards, exports, workbooks and public boards
        # (app/core/replica.py); skipped for the primary when unreachable or lagging more than this.
        "DATABASE_REPLICA_URL": env.get("DATABASE_REPLICA_URL") or None,
        "REPLICA_MAX_LAG_SECONDS": float(env.get("REPLICA_MAX_LAG_SECONDS") or 30),
        "REPLICA_CHECK_SECONDS": float(env.get("REPLICA_CHECK_SECONDS") or 2),
        "REDIS_URL": env.get("REDIS_URL") or None,
        "WECHAT_APPID": env.get("WECHAT_APPID") or None,
        "WECHAT_SECRET": env.get("WECHAT_SECRET") or None,
        "WECHAT_API_BASE_URL": _with_slash(env.get("WECHAT_API_BASE_URL") or "https://api.weixin.qq.com/"),
        "WECHAT_MINIPROGRAM_STATE": env.get("WECHAT_MINIPROGRAM_STATE") or "formal",
        "WECHAT_CODE_ENV_VERSION": env.get("WECHAT_CODE_ENV_VERSION") or "release",
        "WECHAT_CODE_PAGE": env.get("WECHAT_CODE_PAGE") or "pages/scan/index",
        "WECHAT_TIMEOUT": float(env.get("WECHAT_TIMEOUT") or 5),
        "WECHAT_OA_APPID": env.get("WECHAT_OA_APPID") or None,
        "WECHAT_OA_SECRET": env.get("WECHAT_OA_SECRET") or None,
        # JSON objects {"template_key": "template id"}; see app/notifications/templates.py
        "WECHAT_TEMPLATES": env.get("WECHAT_TEMPLATES") or "{}",
        "WECHAT_OA_TEMPLATES": env.get("WECHAT_OA_TEMPLATES") or "{}",
        # Message push (消息推送) of the mini-program: the Token, and the EncodingAESKey for safe mode.
        "WECHAT_PUSH_TOKEN": env.get("WECHAT_PUSH_TOKEN") or None,
        "WECHAT_PUSH_AES_KEY": env.get("WECHAT_PUSH_AES_KEY") or None,
        "NOTIFY_POOL_SIZE": _int("NOTIFY_POOL_SIZE", 16),
        "NOTIFY_IN_FLIGHT_SECONDS": _int("NOTIFY_IN_FLIGHT_SECONDS", 600),
        # How long a queued delivery pump waits before it takes the outbox, so that a burst of
        # reports is delivered by a few pumps rather than one job per report (tasks/notify.py).
        "NOTIFY_PUMP_LINGER_MS": _int("NOTIFY_PUMP_LINGER_MS", 250),
        "MEDIA_DIR": env.get("MEDIA_DIR") or str(instance_dir / "media"),
        "PUBLIC_BASE_URL": (env.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000").rstrip("/"),
        "INSTANCE_DIR": str(instance_dir),
        # A form may carry nine photos of UPLOAD_MAX_BYTES each (the portal shrinks them in the browser
        # first; without JavaScript they arrive as taken), so the body limit follows from the photo limit.
        "MAX_CONTENT_LENGTH": _int("MAX_CONTENT_LENGTH", 9 * _int("UPLOAD_MAX_BYTES", 10 * 1024 * 1024)
                                   + 2 * 1024 * 1024),
        "UPLOAD_MAX_BYTES": _int("UPLOAD_MAX_BYTES", 10 * 1024 * 1024),
        "TOKEN_TTL_SECONDS": _int("TOKEN_TTL_SECONDS", 7 * 24 * 3600),
        "PASSWORD_HASH_METHOD": env.get("PASSWORD_HASH_METHOD") or "scrypt",
        # Sign-in: after this many failures for one username from one client, each further try waits
        # twice as long as the one before (1 s, 2 s, 4 s …), up to the maximum. No account is ever locked.
        "LOGIN_FREE_FAILURES": _int("LOGIN_FREE_FAILURES", 5),
        "LOGIN_MAX_DELAY_SECONDS": _int("LOGIN_MAX_DELAY_SECONDS", 15 * 60),
        # The console's session ends after this long without a request.
        "CONSOLE_IDLE_SECONDS": _int("CONSOLE_IDLE_SECONDS", 30 * 60),
        # Proxies whose X-Forwarded-For is believed (nginx in front of gunicorn), e.g. "127.0.0.1".
        "TRUSTED_PROXIES": env.get("TRUSTED_PROXIES") or "",
        "TIMEZONE": "Asia/Shanghai",
        "RETENTION_MONTHS": _int("RETENTION_MONTHS", 24),
        # Retention per kind of record, in months after the record ended (app/privacy/retention.py);
        # RETENTION_<KIND>_MONTHS overrides one kind, e.g. RETENTION_MESSAGES_MONTHS=6.
        "RETENTION_OVERRIDES": {k[len("RETENTION_"):-len("_MONTHS")].lower(): int(v) for k, v in env.items()
                                if k.startswith("RETENTION_") and k.endswith("_MONTHS") and k != "RETENTION_MONTHS"
                                and v.strip().isdigit()},
        # Records a retention job handles per transaction; the job goes on in further jobs until none is left.
        "RETENTION_BATCH": _int("RETENTION_BATCH", 2000),
        # The privacy notice (app/privacy/notice.py): who is responsible for the data and how to reach them.
        "PRIVACY_CONTROLLER": env.get("PRIVACY_CONTROLLER") or "共治平台运营单位（部署方未填写名称）",
        "PRIVACY_CONTACT": env.get("PRIVACY_CONTACT") or "所在社区居委会（部署方未填写其他联系方式）",
        # 派单: hours a member has to accept or decline before the offer returns to the community.
        "WISH_OFFER_HOURS": _int("WISH_OFFER_HOURS", 48),
        # A claimed wish with no progress: a reminder after this many days, back to the pool after that many.
        "WISH_STALL_REMIND_DAYS": _int("WISH_STALL_REMIND_DAYS", 5),
        "WISH_STALL_RETURN_DAYS": _int("WISH_STALL_RETURN_DAYS", 7),
        # Service hours a new-group post holder's report on duty enters in the ledger (pending the community's decision).
        "NEW_GROUP_REPORT_HOURS": float(env.get("NEW_GROUP_REPORT_HOURS") or 0.5),
        "RATELIMIT_ENABLED": _bool(env.get("RATELIMIT_ENABLED"), True),
        "PORTAL_SECURE_COOKIES": _bool(env.get("PORTAL_SECURE_COOKIES"), env.get("GONGZHI_ENV") == "production"),
        # flask-smorest / OpenAPI
        "API_TITLE": "共治 小程序接口",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/mp/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "/docs",
        "OPENAPI_SWAGGER_UI_URL": "/mp/v1/docs/static/",
        # No pool_pre_ping: on PostgreSQL a checkout listener discards connections the server closed,
        # without a round trip (app/core/db.py).
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "JSON_AS_ASCII": False,
    }
    if overrides:
        cfg.update(overrides)
    # Generated reports hold names of members and workers: never under MEDIA_DIR, which is public.
    cfg["REPORTS_DIR"] = (cfg.get("REPORTS_DIR") or env.get("REPORTS_DIR")
                          or str(Path(cfg["INSTANCE_DIR"]) / "private" / "reports"))
    if Path(cfg["REPORTS_DIR"]).resolve().is_relative_to(Path(cfg["MEDIA_DIR"]).resolve()):
        raise ConfigError("REPORTS_DIR 不能位于 MEDIA_DIR 之内：MEDIA_DIR 下的文件无需登录即可访问。")
    # Images found risky are moved here at once: out of MEDIA_DIR, so their public address stops answering.
    cfg["QUARANTINE_DIR"] = (cfg.get("QUARANTINE_DIR") or env.get("QUARANTINE_DIR")
                             or str(Path(cfg["INSTANCE_DIR"]) / "private" / "quarantine"))
    cfg["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(cfg["SQLALCHEMY_DATABASE_URI"])
    if cfg["DATABASE_REPLICA_URL"]:
        # Autocommit: replica reads hold no transaction for the request's commit to end; a short
        # connect timeout, so that an unreachable replica is skipped quickly.
        cfg["SQLALCHEMY_BINDS"] = {**cfg.get("SQLALCHEMY_BINDS", {}), "replica": {
            "url": normalise_database_url(cfg["DATABASE_REPLICA_URL"]), "isolation_level": "AUTOCOMMIT",
            "connect_args": {"connect_timeout": 2}}}
    cfg["WECHAT_CONSOLE_MODE"] = not (cfg["WECHAT_APPID"] and cfg["WECHAT_SECRET"])
    cfg["PRODUCTION"] = cfg["ENV_NAME"] == "production"
    if cfg["PRODUCTION"] and cfg["SECRET_KEY"] == DEFAULT_SECRET_KEY:
        raise ConfigError("生产模式下必须设置 SECRET_KEY 环境变量，不能使用默认值。")
    cfg["DATA_KEYS"] = data_keys(cfg["DATA_KEY"], cfg["PRODUCTION"], cfg["SECRET_KEY"])
    return cfg


def data_keys(spec: str | None, production: bool, secret_key: str = "") -> list[str]:
    """`DATA_KEY` as a list, the current key first. Required in production; never derived from SECRET_KEY."""
    keys = [part.strip() for part in (spec or "").split(",") if part.strip()]
    if not keys:
        if production:
            raise ConfigError("生产模式下必须设置 DATA_KEY 环境变量（个人信息加密密钥），且不能由 SECRET_KEY 代替。")
        return [DEVELOPMENT_DATA_KEY]
    # Older keys (after the first) may be anything that was used before, SECRET_KEY included, so
    # that data written under the old fallback can still be read and re-keyed.
    if production and (len(keys[0]) < 32 or keys[0] in (DEVELOPMENT_DATA_KEY, secret_key)):
        raise ConfigError("DATA_KEY 的第一个（当前）密钥至少 32 个字符，不能使用开发默认值，也不能与 SECRET_KEY 相同。")
    return keys


def normalise_database_url(url: str) -> str:
    """Accept the common `postgres://` and `postgresql://` spellings and use psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"
