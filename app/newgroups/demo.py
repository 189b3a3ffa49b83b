"""Demo new groups in 东城社区: a rider on a 流动网格员 post who reported away from any code, a driver waiting
for a post, a courier waiting for approval, and the community's posts (沁源's five kinds, three published)."""
from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import User
from app.accounts.service import actor_for
from app.cases.models import Category
from app.extensions import db
from app.newgroups import reporting, service
from app.newgroups.models import GroupWorker

PEOPLE = [  # openid, name, kind, platform, work area, approved
    ("demo_openid_rider_ma", "马骁", "rider", "美团外卖", "东城小区、幸福里一带", True),
    ("demo_openid_driver_zhang", "张国庆", "driver", "滴滴出行", "沁河镇城区", True),
    ("demo_openid_courier_niu", "牛建国", "courier", "顺丰速运", "东城社区全域", False),
]
POSTS = [  # kind, duties, places
    ("roving", "跑单途中留意楼道堆物、井盖破损、消防通道占用等隐患，随手上报。", 3),
    ("collector", "收集住户和商户的意见诉求，每月至少反映一次民情。", 5),
    ("policy", "送餐送件时顺带发放防诈骗、垃圾分类等宣传资料。", 2),
]


def seed_demo(*, areas, users, places, **_context) -> list[str]:
    east = areas["东城社区"]
    if db.session.scalar(select(GroupWorker.id).where(GroupWorker.community_id == east.id).limit(1)):
        return []
    admin = actor_for(users["east_admin"])
    posts = [service.create_post(admin, community_id=east.id, kind=kind, title="", duties=duties, places=n)
             for kind, duties, n in POSTS]
    workers = {}
    for openid, name, kind, platform, work_area, approved in PEOPLE:
        user = db.session.scalar(select(User).where(User.openid == openid))
        if user is None:
            user = User(openid=openid, display_name=name, real_name=name)
            db.session.add(user)
            db.session.flush()
        registered = service.register(actor_for(user), name=name, kind=kind, platform=platform,
                                      work_area=work_area, community_id=east.id)
        if approved:
            service.review_registration(admin, registered["id"], "approve")
        workers[name] = user
    rider, driver = actor_for(workers["马骁"]), actor_for(workers["张国庆"])
    claim = service.claim_post(rider, posts[0]["id"], note="每天都在这片送餐")
    service.decide_claim(admin, claim["id"], "approve")
    service.claim_post(driver, posts[2]["id"])
    place = next(p for p in places if p.name == "东城小区2号楼")
    category = db.session.scalar(select(Category).order_by(Category.id).limit(1))
    reporting.report_on_duty(rider, category_id=category.id, place_id=place.id,
                             description="2号楼东侧消防通道被电动车堵住，送餐时发现的。")
    return ["新就业群体 3 人（已报到 2、待审核 1），社区岗位 3 个，流动上报 1 件"]
