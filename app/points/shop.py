"""积分超市: items with stock and a price; a redemption reserves both, staff confirm the pick-up, and an
unclaimed reservation expires and gives both back.

Stock and balance are each taken by one conditional UPDATE (`stock > 0`, `balance >= price`), so a rush of
redemptions on a scarce item gives exactly as many as there are, and nobody spends points they do not have.
"""
from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from app.accounts.models import ADMIN_ROLES, GRID_WORKER
from app.core import audit
from app.core.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from app.core.pagination import Page, paginate
from app.core.scoping import Actor, scope_filter
from app.core.time import local_display, utcnow
from app.extensions import db
from app.notifications.service import notify
from app.points import ledger
from app.points.models import EXPIRED, PICKED_UP, REFUND, RESERVED, SPEND, Redemption, ShopItem
from app.points.service import get_community, grid_communities, require_admin

HOLD = timedelta(days=7)
PICKUP_ROLES = (*ADMIN_ROLES, GRID_WORKER)


class SoldOut(Conflict):
    message = "手慢了，该商品已兑完。"


def create_item(actor: Actor, *, community_id: int, name: str, price: int, stock: int,
                description: str = "") -> ShopItem:
    community = get_community(community_id)
    require_admin(actor, community.path)
    name = (name or "").strip()
    if not name:
        raise Invalid("请填写商品名称。", errors={"name": ["必填"]})
    if price <= 0 or stock < 0:
        raise Invalid("积分价格须大于 0，库存不能为负。", errors={"price": ["须大于 0"]})
    item = ShopItem(community_id=community.id, area_path=community.path, name=name[:64],
                    description=(description or "").strip()[:200], price=price, stock=stock, active=True)
    db.session.add(item)
    db.session.flush()
    audit.act("points.create_shop_item", shop_item_id=item.id)
    return item


def restock(actor: Actor, item_id: int, *, add: int) -> ShopItem:
    item = _item(item_id)
    require_admin(actor, item.area_path)
    if add <= 0:
        raise Invalid("补货数量须大于 0。", errors={"add": ["须大于 0"]})
    db.session.execute(update(ShopItem).where(ShopItem.id == item.id).values(stock=ShopItem.stock + add))
    db.session.refresh(item)
    audit.act("points.restock", shop_item_id=item.id, add=add)
    return item


def _item(item_id: int) -> ShopItem:
    item = db.session.get(ShopItem, item_id)
    if item is None:
        raise NotFound("商品不存在。")
    return item


def list_items(*, community_id: int, limit: int | None = None, cursor: str | None = None) -> Page:
    community = get_community(community_id)
    return paginate(select(ShopItem).where(ShopItem.community_id == community.id, ShopItem.active.is_(True)),
                    ShopItem.id, limit=limit, cursor=cursor)


def _new_code() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(8))


def redeem(actor: Actor, item_id: int) -> Redemption:
    """Reserve one of the stock and its price in points, and give a pick-up code."""
    if not actor.is_authenticated:
        raise Unauthorized()
    item = _item(item_id)
    if not item.active:
        raise NotFound("商品不存在。")
    short = ledger.InsufficientPoints(f"积分余额不足：兑换需要 {item.price} 分。")
    if ledger.balance_of(actor.user_id) < item.price:
        raise short
    taken = db.session.execute(update(ShopItem).where(ShopItem.id == item.id, ShopItem.stock > 0)
                               .values(stock=ShopItem.stock - 1).execution_options(synchronize_session=False))
    if taken.rowcount != 1:
        raise SoldOut()
    redemption = None
    for _attempt in range(3):  # an 8-digit code clashes once in a hundred million: draw again
        candidate = Redemption(user_id=actor.user_id, shop_item_id=item.id, shop_item=item, area_path=item.area_path,
                               price=item.price, code=_new_code(), status=RESERVED, expires_at=utcnow() + HOLD)
        try:
            with db.session.begin_nested():
                db.session.add(candidate)
                db.session.flush()
        except IntegrityError:
            continue
        redemption = candidate
        break
    if redemption is None:
        raise Conflict("兑换暂时失败，请重试。")
    entry = ledger.post(user_id=actor.user_id, points=-item.price, kind=SPEND, source_type="redemption",
                        source_id=redemption.id, community_id=item.community_id, area_path=item.area_path,
                        note=f"兑换：{item.name}", revision=0)
    if entry is None:  # pragma: no cover - a new redemption id cannot have a line yet
        raise Conflict()
    notify([actor.user_id], "points.pickup_ready", title=f"兑换成功，请凭码领取：{item.name}"[:100],
           body=f"领取码 {redemption.code}，请在 {local_display(redemption.expires_at)} 前到社区领取，逾期积分和库存退回。",
           page="pages/points/redemptions",
           data={"subject": item.name, "status": "待领取", "note": f"领取码 {redemption.code}"},
           subject=("redemption", redemption.id))
    return redemption


def my_redemptions(actor: Actor, *, limit: int | None = None, cursor: str | None = None) -> Page:
    if not actor.is_authenticated:
        raise Unauthorized()
    return paginate(select(Redemption).where(Redemption.user_id == actor.user_id), Redemption.id,
                    limit=limit, cursor=cursor)


def _pickup_scope(actor: Actor):
    """The community's admins, and the grid workers of any of its grids, hand items over (the supermarket
    belongs to the community, a grid worker's grant to one of its grids)."""
    return or_(scope_filter(actor, Redemption.area_path, ADMIN_ROLES),
               Redemption.area_path.in_(grid_communities(actor)))


def staff_redemptions(actor: Actor, *, status: str | None = None, limit: int | None = None,
                      cursor: str | None = None) -> Page:
    if not actor.has_role(*PICKUP_ROLES):
        raise Forbidden("只有社区工作人员可以查看兑换记录。")
    stmt = select(Redemption).where(_pickup_scope(actor))
    if status is not None:
        stmt = stmt.where(Redemption.status == status)
    return paginate(stmt, Redemption.id, limit=limit, cursor=cursor)


def confirm_pickup(actor: Actor, *, code: str) -> Redemption:
    """Staff of the community hand the item over against the code."""
    if not actor.has_role(*PICKUP_ROLES):
        raise Forbidden("只有社区工作人员可以确认领取。")
    redemption = db.session.scalar(select(Redemption).where(Redemption.code == (code or "").strip())
                                   .where(_pickup_scope(actor))
                                   .with_for_update(of=Redemption).execution_options(populate_existing=True))
    if redemption is None:
        raise NotFound("领取码无效，或不属于您管辖的社区。")
    if redemption.status != RESERVED:
        raise Conflict("该兑换已领取。" if redemption.status == PICKED_UP else "该兑换已过期，积分已退回。")
    redemption.status, redemption.picked_up_at, redemption.confirmed_by = PICKED_UP, utcnow(), actor.user_id
    db.session.flush()
    audit.act("points.confirm_pickup", redemption_id=redemption.id)
    return redemption


def expire_due(limit: int = 500) -> int:
    """Reservations not picked up in time: the stock and the points go back."""
    due = list(db.session.scalars(
        select(Redemption).where(Redemption.status == RESERVED, Redemption.expires_at <= utcnow())
        .order_by(Redemption.id).limit(limit).with_for_update(skip_locked=True, of=Redemption)))
    for redemption in due:
        redemption.status = EXPIRED
        db.session.execute(update(ShopItem).where(ShopItem.id == redemption.shop_item_id)
                           .values(stock=ShopItem.stock + 1).execution_options(synchronize_session=False))
        ledger.post(user_id=redemption.user_id, points=redemption.price, kind=REFUND, source_type="redemption",
                    source_id=redemption.id, community_id=redemption.shop_item.community_id,
                    area_path=redemption.area_path, note=f"逾期未领取，退回：{redemption.shop_item.name}",
                    revision=1)
        notify([redemption.user_id], "points.redemption_expired", title="兑换已过期，积分已退回",
               body=f"“{redemption.shop_item.name}”逾期未领取，{redemption.price} 积分已退回。",
               page="pages/points/redemptions",
               data={"subject": redemption.shop_item.name, "status": "已过期"}, subject=("redemption", redemption.id))
    db.session.flush()
    return len(due)
