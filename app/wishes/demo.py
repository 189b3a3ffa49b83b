"""Demo wishes in 东城社区: one awaiting review, one in the pool, and one driven all the way to confirmation."""
from __future__ import annotations

import io
from datetime import timedelta

from PIL import Image, ImageDraw
from sqlalchemy import select

from app.accounts.models import User
from app.accounts.service import actor_for, set_phone
from app.core.time import to_local, utcnow
from app.extensions import db
from app.media.service import save_upload
from app.members.models import APPROVED as MEMBER_APPROVED
from app.members.models import PartyMember
from app.wishes import service
from app.wishes.models import Wish

RESIDENT_OPENID = "demo_openid_resident_wang"
DONOR_OPENID = "demo_openid_donor_li"


def _proof_photo(actor) -> int:
    image = Image.new("RGB", (480, 320), (250, 240, 230))
    ImageDraw.Draw(image).rectangle((40, 40, 440, 280), outline=(192, 57, 43), width=6)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return save_upload(actor, buffer.getvalue(), "proof.png").id


def seed_demo(*, areas, users, **_context) -> list[str]:
    resident = db.session.scalar(select(User).where(User.openid == RESIDENT_OPENID))
    if resident is None:
        resident = User(openid=RESIDENT_OPENID, display_name="王秀兰")
        set_phone(resident, "13700005678")
        db.session.add(resident)
        db.session.flush()
    if db.session.scalar(select(Wish.id).where(Wish.requester_id == resident.id).limit(1)):
        return []
    me, admin, member = actor_for(resident), actor_for(users["east_admin"]), actor_for(users["member_east"])
    east, grid1, grid2 = areas["东城社区"], areas["东城社区第一网格"], areas["东城社区第二网格"]
    soon = to_local(utcnow() + timedelta(days=7)).date()
    common = {"community_id": east.id, "contact_name": "王秀兰", "desired_date": soon}

    service.create_wish(me, title="厨房水龙头漏水，想请人帮忙修", category="repair", grid_id=grid1.id,
                        detail="老伴腿脚不便，水龙头一直滴水，想请懂水电的同志帮忙看看。",
                        address="东城小区1号楼3单元502", **common)
    pooled = service.create_wish(me, title="孙子想要一套初中英语辅导书", category="study", grid_id=grid2.id,
                                 detail="孙子上初二，想要一套英语同步辅导书。", address="幸福里小区3号楼2单元101",
                                 **common)
    service.transition(admin, pooled["id"], "approve")
    done = service.create_wish(me, title="教老人用手机视频通话", category="digital", grid_id=grid1.id,
                               detail="想和外地的女儿视频，不会操作，请人教一教。", address="东城小区1号楼3单元502",
                               **common)
    service.transition(admin, done["id"], "approve")
    service.transition(member, done["id"], "claim")
    service.transition(member, done["id"], "fulfil", note="上门教会了微信视频通话和语音消息，老人已能自己操作。",
                       hours=1.5, photo_ids=[_proof_photo(member)])
    service.transition(me, done["id"], "confirm", rating=5, comment="小刘很耐心，谢谢党员同志！")

    # 三单制: a 派单 waiting for the member's 接单, a fulfilment the resident disputes, a goods wish with donors.
    offered = service.create_wish(me, title="帮忙把旧衣物送到回收点", category="daily", grid_id=grid1.id,
                                  detail="整理出两大袋旧衣物，搬不动，想请人帮忙送到社区回收点。",
                                  address="东城小区1号楼3单元502", **common)
    service.transition(admin, offered["id"], "approve")
    member_id = db.session.scalar(select(PartyMember.id).where(PartyMember.user_id == users["member_east"].id,
                                                               PartyMember.status == MEMBER_APPROVED))
    service.transition(admin, offered["id"], "dispatch", member_id=member_id, note="刘建军住得近，请他帮忙")
    disputed = service.create_wish(me, title="卫生间灯不亮，想请人换个灯泡", category="repair", grid_id=grid1.id,
                                   detail="卫生间顶灯不亮了，够不着。", address="东城小区1号楼3单元502", **common)
    service.transition(admin, disputed["id"], "approve")
    service.transition(member, disputed["id"], "claim")
    service.transition(member, disputed["id"], "fulfil", note="换了新灯泡。", hours=0.5,
                       photo_ids=[_proof_photo(member)])
    service.transition(me, disputed["id"], "dispute", reason="换灯泡后第二天又不亮了，可能是开关坏了。")
    donor = db.session.scalar(select(User).where(User.openid == DONOR_OPENID))
    if donor is None:
        donor = User(openid=DONOR_OPENID, display_name="李爱心", real_name="李爱心")
        db.session.add(donor)
        db.session.flush()
    goods = service.create_wish(me, title="留守儿童需要6个新书包", category="goods", quantity=6, grid_id=grid2.id,
                                detail="幸福里有6名留守儿童下学期升学，想要新书包。", address="东城社区党群服务中心",
                                **common)
    service.transition(admin, goods["id"], "approve")
    pledged = service.pledge(actor_for(donor), goods["id"], quantity=4, note="周末送到社区")
    service.confirm_handover(admin, goods["id"], pledged["pledges"][0]["id"], note="已收到4个书包")
    service.pledge(actor_for(users["member_east"]), goods["id"], quantity=1)
    return ["微心愿 6 条（待审核 1、心愿池 1、已确认 1、待接单 1、有异议 1、物品心愿 1）"]
