"""The process-wide extension objects, bound to an app in create_app(), and the app's Redis connection."""
from flask import current_app
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from redis import Redis
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)
migrate = Migrate(compare_type=True, render_as_batch=True)
csrf = CSRFProtect()  # the web portal's forms (the JSON API uses bearer tokens, not cookies)


def redis_connection() -> Redis | None:
    """The app's Redis (REDIS_URL), one client per app and URL; None in the embedded default (no Redis)."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    clients = current_app.extensions.setdefault("gongzhi.redis", {})
    if url not in clients:
        clients[url] = Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
    return clients[url]
