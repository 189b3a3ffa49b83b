"""Demo data for points (积分制): the schemes of 东城 and 西园, households, and the points the demo's own
records earn (approved hours, confirmed wishes, verified cases, praise), then applications, a monthly
evaluation and the supermarket. It lives beside app/demo.py, not in app/points, because it reads every
domain's demo rows, and the domains call into app/points (a package of its own may not import them back)."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from app.accounts.models import User
from app.accounts.service import actor_for
from app.cases.models import Case
from app.extensions import db
from app.points import evaluation, ledger, service, shop, sources
from app.points.models import Household, PointScheme, ShopItem
from app.praise.models import USER_TARGETS, Praise
from app.volunteering.models import ServiceHours
from app.wishes.models import CONFIRMED, Wish

ITEMS = [
    {"code": "A01", "name": "参加志愿服务（每小时）", "points": 2, "kind": "auto", "source": "service_hours", "monthly_cap": 40},
    {"code": "A02", "name": "认领并完成微心愿", "points": 5, "kind": "auto", "source": "wish", "monthly_cap": 20},
    {"code": "A03", "name": "随手拍上报问题经核查属实", "points": 2, "kind": "auto", "source": "case", "monthly_cap": 10},
    {"code": "A04", "name": "服务获得居民点赞", "points": 1, "kind": "auto", "source": "praise", "monthly_cap": 10},
    {"code": "B01", "name": "门前三包、庭院整洁", "points": 3, "kind": "applied", "monthly_cap": 6,
     "approver_role": "grid_worker"},
    {"code": "B02", "name": "孝老爱亲、邻里互助好人好事", "points": 5, "kind": "applied", "monthly_cap": 20},
    {"code": "B03", "name": "红白事简办（移风易俗）", "points": 10, "kind": "applied"},
    {"code": "B04", "name": "参加村（居）民代表会议、议事协商", "points": 2, "kind": "applied", "monthly_cap": 4},
    {"code": "C01", "name": "月度评议（满分 100 分折合 10 积分）", "points": 10, "kind": "evaluated"},
]

# 千阳's ten indicators of 一月一评, on a 100-point scale.
INDICATORS = [
    {"code": "I01", "name": "遵纪守法", "weight": 10}, {"code": "I02", "name": "诚实守信", "weight": 10},
    {"code": "I03", "name": "孝老爱亲", "weight": 10}, {"code": "I04", "name": "移风易俗", "weight": 10},
    {"code": "I05", "name": "环保卫生", "weight": 15}, {"code": "I06", "name": "邻里和睦", "weight": 10},
    {"code": "I07", "name": "热心公益", "weight": 10}, {"code": "I08", "name": "勤劳致富", "weight": 10},
    {"code": "I09", "name": "崇学重教", "weight": 5}, {"code": "I10", "name": "参与议事", "weight": 10},
]
TIERS = [{"name": "优秀", "min": 90}, {"name": "良好", "min": 80}, {"name": "合格", "min": 60}, {"name": "待改进", "min": 0}]

# head openid or username, place, room, other members
HOUSEHOLDS = [
    ("member_east", "东城小区2号楼", "2单元301", ["demo-praise-wang"]),
    ("demo-praise-zhang", "东城小区1号楼", "1单元101", ["demo-praise-li"]),
]

SHOP = {
    "东城社区": [("洗衣液 2kg", "爱心超市提供，每户每月限兑一次", 30, 20), ("东北大米 5kg", "", 60, 10),
                 ("理发服务券", "幸福里理发店志愿者提供", 20, 15), ("社区食堂午餐券", "长者食堂可用", 10, 50)],
    "西园社区": [("食用油 5L", "", 50, 10), ("毛巾两条", "", 15, 30)],
}


def _user(key: str, users: dict) -> User | None:
    return users.get(key) or db.session.scalar(select(User).where(User.openid == key))


def seed_demo(*, areas, places, users, **_context) -> list[str]:
    if db.session.scalar(select(PointScheme.id).limit(1)):
        return []
    admins = {"东城社区": actor_for(users["east_admin"]), "西园社区": actor_for(users["west_admin"])}
    for community, admin in admins.items():
        scheme = service.create_scheme(admin, community_id=areas[community].id,
                                       title=f"{community}“一户一账、一季一评”积分方案", items=ITEMS,
                                       indicators=INDICATORS, tiers=TIERS)
        service.publish_scheme(admin, scheme.id)
        # Agreed at the representatives' meeting at the start of the year.
        scheme.effective_from = date(service.local_today().year, 1, 1)
    db.session.flush()

    by_name = {p.name: p for p in places}
    for head, place, room, members in HOUSEHOLDS:
        head_user = _user(head, users)
        if head_user is None:
            continue
        household = service.create_household(actor_for(head_user), place_id=by_name[place].id, room=room)
        for member in members:
            user = _user(member, users)
            if user is not None:
                service.join_household(actor_for(user), join_code=household.join_code)

    for entry in db.session.scalars(select(ServiceHours).where(ServiceHours.status == "approved")):
        sources.service_hours_decided(entry)
    for wish in db.session.scalars(select(Wish).where(Wish.status == CONFIRMED)):
        sources.wish_confirmed(wish)
    for case in db.session.scalars(select(Case).where(Case.closed_at.is_not(None))):
        sources.case_verified(case)
    for praise in db.session.scalars(select(Praise).where(Praise.target_type.in_(USER_TARGETS))):
        sources.praise_received(praise)

    east_scheme = service.current_scheme(areas["东城社区"].id)
    item = {i.code: i for i in east_scheme.items}
    zhang, li = _user("demo-praise-zhang", users), _user("demo-praise-li", users)
    if zhang is not None and li is not None:
        tidy = service.apply(actor_for(zhang), item_id=item["B01"].id, note="门前三包做得好，院子里的杂物都清理了。")
        service.decide_application(actor_for(users["grid_east1"]), tidy.id, approve=True)
        service.apply(actor_for(li), item_id=item["B02"].id,
                      note="连续三个月每天给对门独居的赵奶奶送饭，赵奶奶的女儿可以作证。")

    _last_month_evaluation(areas, users)

    stocked = 0
    for community, goods in SHOP.items():
        for name, description, price, stock in goods:
            shop.create_item(admins[community], community_id=areas[community].id, name=name,
                             description=description, price=price, stock=stock)
            stocked += 1
    lunch = db.session.scalar(select(ShopItem).where(ShopItem.name == "社区食堂午餐券"))
    if ledger.balance_of(users["member_east"].id) >= lunch.price:
        shop.redeem(actor_for(users["member_east"]), lunch.id)
    return [f"积分制：方案 2 个（东城、西园，各 {len(ITEMS)} 项），家庭户 {len(HOUSEHOLDS)} 户，积分超市商品 {stocked} 件"]


def _last_month_evaluation(areas, users) -> None:
    """Last month's scores by the grid worker, checked and published for notice by the community's admin."""
    today = service.local_today()
    last = (today.replace(day=1) - timedelta(days=1))
    if last.year != today.year:
        return  # the demo scheme applies from 1 January
    east = areas["东城社区"]
    homes = list(db.session.scalars(select(Household).where(Household.community_id == east.id).order_by(Household.id)))
    marks = [[10, 10, 10, 9, 14, 10, 10, 9, 5, 9], [9, 10, 8, 10, 12, 9, 7, 8, 4, 8]]
    scores = [{"household_id": h.id, "scores": {i["code"]: m for i, m in zip(INDICATORS, mark, strict=True)}}
              for h, mark in zip(homes, marks, strict=False)]
    made = evaluation.create_evaluation(actor_for(users["grid_east1"]), community_id=east.id,
                                        period=last.strftime("%Y-%m"), scores=scores)
    evaluation.publish(actor_for(users["east_admin"]), made.id)
