"""Subscribe-message quota: each template a user accepts in wx.requestSubscribeMessage allows one message."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.core.errors import Invalid
from app.extensions import db
from app.notifications import templates
from app.notifications.models import OfficialAccountFollower, SubscriptionQuota


def add_quota(user, accepted: list[str]) -> list[dict]:
    """One more message of each accepted template (a key accepted twice in one call counts once)."""
    keys = list(dict.fromkeys(accepted))
    unknown = [k for k in keys if k not in templates.TEMPLATES]
    if unknown:
        raise Invalid(f"未知的消息模板：{'、'.join(unknown)}。",
                      errors={"accepted": [f"未知的消息模板：{k}" for k in unknown]})
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for key in keys:
        stmt = insert(SubscriptionQuota).values(user_id=user.id, template_key=key, remaining=1)
        db.session.execute(stmt.on_conflict_do_update(
            index_elements=["user_id", "template_key"],
            set_={"remaining": SubscriptionQuota.remaining + 1}))
    db.session.flush()
    return quotas(user)


def quotas(user) -> list[dict]:
    """Every template with its id for wx.requestSubscribeMessage and the messages the user still allows."""
    remaining = dict(db.session.execute(
        select(SubscriptionQuota.template_key, SubscriptionQuota.remaining)
        .where(SubscriptionQuota.user_id == user.id)).all())
    return [{"template_key": t.key, "template_id": templates.subscribe_template_id(t.key), "title": t.title,
             "remaining": remaining.get(t.key, 0)} for t in templates.TEMPLATES.values()]


def record_follower(unionid: str, oa_openid: str) -> OfficialAccountFollower:
    """Remember an official-account follower (from its subscribe event or a follower sync)."""
    row = db.session.scalar(select(OfficialAccountFollower).where(OfficialAccountFollower.unionid == unionid))
    if row is None:
        row = OfficialAccountFollower(unionid=unionid, oa_openid=oa_openid)
        db.session.add(row)
    else:
        row.oa_openid = oa_openid
    db.session.flush()
    return row
