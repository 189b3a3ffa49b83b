"""Demo party members: member_east already reported to 东城社区, and one registration awaiting review."""
from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import User
from app.accounts.service import actor_for, set_phone
from app.extensions import db
from app.members import service
from app.members.models import PartyMember

PENDING_OPENID = "demo_openid_member_chen"


def _registration(user: User) -> PartyMember | None:
    return db.session.scalar(select(PartyMember).where(PartyMember.user_id == user.id))


def seed_demo(*, areas, users, **_context) -> list[str]:
    east, admin = areas["东城社区"], users["east_admin"]
    created = 0
    member = users["member_east"]
    # The name a proof of service carries; the ID number is asked for only when a proof is requested.
    member.real_name = member.real_name or "刘建军"
    if _registration(member) is None:
        registered = service.register(actor_for(member), name="刘建军", org_name="沁源县供电公司党支部",
                                      community_id=east.id, grid_id=areas["东城社区第一网格"].id,
                                      skills=["水电维修", "家电维修", "助老"], availability="工作日晚上、周末全天")
        service.review(actor_for(admin), registered["id"], "approve")
        created += 1

    chen = db.session.scalar(select(User).where(User.openid == PENDING_OPENID))
    if chen is None:
        chen = User(openid=PENDING_OPENID, display_name="陈晓燕")
        set_phone(chen, "13900001234")
        db.session.add(chen)
        db.session.flush()
    if _registration(chen) is None:
        service.register(actor_for(chen), name="陈晓燕", org_name="沁源县第一中学党总支", community_id=east.id,
                         grid_id=areas["东城社区第二网格"].id, skills=["学业辅导", "英语"], availability="周末上午")
        created += 1
    return [f"在职党员报到 {created} 条（刘建军已报到东城社区，陈晓燕待审核）"] if created else []
