"""Demo data: a few residents' praises for a grid worker, a party member, a shop and a place."""
from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import User
from app.extensions import db
from app.praise.models import Praise
from app.praise.service import local_today

RESIDENTS = [("demo-praise-zhang", "张桂兰"), ("demo-praise-li", "李福生"), ("demo-praise-wang", "王秀英")]

# resident openid, target_type, target (username or place name), place name, message
PRAISES = [
    ("demo-praise-zhang", "grid_worker", "grid_east1", "东城小区1号楼", "楼道堆物的事当天就协调清理了，李网格员辛苦！"),
    ("demo-praise-li", "merchant", "老王便民超市", "老王便民超市", "老王常帮独居老人送米面上门，好人！"),
    ("demo-praise-wang", "party_member", "member_east", "东城小区2号楼", "刘党员帮我们修好了单元门禁，谢谢。"),
    ("demo-praise-zhang", "place", "日晷公园东门", "日晷公园东门", "广场的路灯修好了，晚上散步亮堂多了。"),
    ("demo-praise-li", "grid_worker", "grid_west1", "西园小区5号楼", "王网格员耐心帮我办好了高龄补贴。"),
]


def seed_demo(*, areas, places, users, departments) -> list[str]:
    residents = {}
    for openid, name in RESIDENTS:
        user = db.session.scalar(select(User).where(User.openid == openid))
        if user is None:
            user = User(openid=openid, display_name=name)
            db.session.add(user)
            db.session.flush()
        residents[openid] = user
    by_name = {p.name: p for p in places}
    created = 0
    for openid, target_type, target, place_name, message in PRAISES:
        place = by_name.get(place_name)
        target_id = users[target].id if target in users else by_name[target].id
        if place is None:
            continue
        exists = db.session.scalar(select(Praise.id).where(
            Praise.user_id == residents[openid].id, Praise.target_type == target_type, Praise.target_id == target_id))
        if exists is None:
            db.session.add(Praise(user_id=residents[openid].id, target_type=target_type, target_id=target_id,
                                  place_id=place.id, message=message, area_path=place.area_path, day=local_today()))
            created += 1
    db.session.flush()
    return [f"点赞：新增 {created} 条"]
