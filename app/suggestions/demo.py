"""Demo representatives, a liaison office and suggestions in each stage, including a published closed one."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import select

from app.accounts.service import actor_for
from app.core.ids import new_scene
from app.core.time import travel, utcnow
from app.extensions import db
from app.suggestions import service
from app.suggestions.models import CPPCC, NPC, PARTY, LiaisonOffice, Representative, Suggestion

# name, kind, level, area, bio, demo account (None: a profile without an account yet)
REPRESENTATIVES = [
    ("张代表", NPC, "town", "沁河镇", "沁河镇人大代表，长期关注老旧小区改造和道路交通。", "rep_npc"),
    ("王委员", CPPCC, "county", "沁河镇", "县政协委员，在沁河镇联络站接待群众，医生，关注基层医疗和养老服务。", None),
    ("李代表", PARTY, "town", "西园社区", "镇党代表，西园社区老党员，关注农贸市场和环境卫生。", None),
]


def seed_demo(*, areas, places, users, departments) -> list[str]:
    reps = {}
    for name, kind, level, area_name, bio, username in REPRESENTATIVES:
        rep = db.session.scalar(select(Representative).where(Representative.name == name))
        if rep is None:
            area = areas[area_name]
            rep = Representative(name=name, kind=kind, level=level, area_id=area.id, area=area,
                                 area_path=area.path, bio=bio, scene=new_scene("r"),
                                 user_id=users[username].id if username else None)
            db.session.add(rep)
        reps[name] = rep
    town = areas["沁河镇"]
    office = db.session.scalar(select(LiaisonOffice).where(LiaisonOffice.area_id == town.id))
    if office is None:
        office = LiaisonOffice(area_id=town.id, area=town, area_path=town.path, name="沁河镇人大代表联络站",
                               address="沁河镇人民政府一楼")
        db.session.add(office)
    db.session.flush()
    created = _seed_suggestions(reps, areas, users, departments)
    return [f"代表委员 {len(reps)} 位，联络站 1 个，新建群众建议 {created} 条"]


@contextmanager
def _hours_ago(hours: float):
    """Run a demo step as if it happened `hours` ago, so the timelines and figures look lived-in."""
    travel(-timedelta(hours=hours))
    try:
        yield
    finally:
        travel(timedelta(hours=hours))


def _seed_suggestions(reps, areas, users, departments) -> int:
    if db.session.scalar(select(Suggestion.id).limit(1)) is not None:
        return 0
    resident = actor_for(users["member_east"])
    rep = actor_for(users["rep_npc"])
    department = actor_for(users["dept_cg"])

    with _hours_ago(72):
        done = service.submit(
            resident, representative_id=reps["张代表"].id, allow_publication=True,
            title="建议在日晷公园东门增设非机动车停放点",
            body="日晷公园东门电动车乱停，早晚高峰挡住人行道，老人推婴儿车只能走机动车道。"
                 "建议划设非机动车停放区。我的电话13912345678，可以联系我现场看。")
    with _hours_ago(70):
        service.transition(rep, done.id, "accept")
    with _hours_ago(66):
        service.transition(rep, done.id, "refer", department_id=departments["城管执法中队"].id,
                           due_at=utcnow() + timedelta(days=10), note="请现场勘查后划设停放区。")
    with _hours_ago(24):
        service.transition(department, done.id, "reply",
                           note="已在东门北侧划设非机动车停放区 40 个车位，并安排队员早晚高峰劝导。")
    with _hours_ago(20):
        service.transition(rep, done.id, "close", note="已到现场查看，停放区已投入使用。感谢您的建议。")
    with _hours_ago(19):
        service.rate(resident, done.id, score=5, comment="处理很快，谢谢张代表。")

    with _hours_ago(30):
        answered = service.submit(
            resident, representative_id=reps["张代表"].id, allow_publication=False,
            title="东城小区1号楼楼道灯不亮", body="1号楼2单元三层到六层的楼道灯坏了一个多月，晚上上下楼很不方便。")
    with _hours_ago(28):
        service.transition(rep, answered.id, "accept")
        service.transition(rep, answered.id, "answer", note="已联系物业，物业承诺本周内更换，我会跟进。")

    with _hours_ago(2):
        service.submit(
            resident, area_id=areas["西园社区"].id, allow_publication=True,
            title="西园菜市场周边早高峰拥堵", body="早上七点到八点菜市场门口三轮车占道卸货，学生上学很危险，建议错峰卸货。")
    return 3
