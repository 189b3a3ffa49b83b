"""积分制 as a community and its residents use it: a scheme, points from service once each, applications,
households, rankings, corrections and the points supermarket."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from app.accounts.models import User
from app.core import uow
from app.core.time import to_local, travel, utcnow
from app.extensions import db
from app.notifications.models import Notification
from app.points.models import PointAccount, PointEntry
from app.volunteering.ledger import credit_hours
from tests.api.wishflow import act, me, new_member, photo, post_wish


def named(login, name: str):
    api = login.resident()
    user = db.session.get(User, me(api)["id"])
    user.display_name = user.real_name = name
    uow.commit()
    return api


def east_items(login, areas) -> dict:
    scheme = login.anonymous().get(f"/points/schemes/current?community_id={areas['东城社区'].id}")
    assert scheme.status_code == 200, scheme.get_json()
    return {i["code"]: i for i in scheme.get_json()["items"]}


def entries(api) -> list[dict]:
    return api.get("/points/me/entries?limit=100").get_json()["items"]


def hours_entry(user_id: int, areas, hours: str, source_id: int = 900001):
    entry = credit_hours(user_id=user_id, source_type="activity", source_id=source_id, hours=hours,
                         area_path=areas["东城社区"].path, description="日晷公园环境清洁",
                         organiser_area_id=areas["东城社区"].id)
    uow.commit()
    return entry.id


def test_a_community_publishes_a_scheme_and_a_new_version_waits_for_the_next_month(login, areas):
    east, west = login("east_admin"), login("west_admin")
    body = {"community_id": areas["东城社区"].id, "title": "东城社区积分方案（修订）", "items": [
        {"code": "A01", "name": "参加志愿服务（每小时）", "points": 3, "kind": "auto", "source": "service_hours"},
        {"code": "B01", "name": "门前三包", "points": 4, "kind": "applied", "monthly_cap": 8}]}
    assert west.post("/points/schemes", json=body).status_code == 403
    assert login.resident().post("/points/schemes", json=body).status_code == 403
    bad = east.post("/points/schemes", json=body | {"items": [{"code": "A01", "name": "自动", "points": 1,
                                                                 "kind": "auto"}]})
    assert bad.status_code == 422 and "来源" in bad.get_json()["message"]
    draft = east.post("/points/schemes", json=body | {"dividend_percent": 25})
    assert draft.status_code == 201, draft.get_json()
    draft = draft.get_json()
    assert draft["status"] == "draft" and draft["version"] == 2 and draft["dividend_percent"] == 25
    # Residents see published versions only.
    public = login.anonymous().get(f"/points/schemes?community_id={areas['东城社区'].id}").get_json()["items"]
    assert [s["version"] for s in public] == [1]
    assert login.anonymous().get(f"/points/schemes/{draft['id']}").status_code == 404

    published = east.post(f"/points/schemes/{draft['id']}/publish").get_json()
    today = to_local(utcnow()).date()
    first_of_next = (today.replace(day=28) + timedelta(days=4)).replace(day=1)
    assert published["status"] == "published" and published["effective_from"] == first_of_next.isoformat()
    assert east.post(f"/points/schemes/{draft['id']}/publish").status_code == 409
    # This month still runs on version 1: 2 points an hour.
    assert east_items(login, areas)["A01"]["points"] == 2
    volunteer = named(login, "赵志强")
    uid = me(volunteer)["id"]
    first = hours_entry(uid, areas, "2.00", 900001)
    assert east.post(f"/service-hours/{first}/transitions", json={"action": "approve"}).status_code == 200
    assert [(e["points"], e["item_code"]) for e in entries(volunteer)] == [(4, "A01")]

    # Next month: version 2 applies to new events, and this month's points keep their rule.
    travel(timedelta(days=(first_of_next - today).days + 1))
    east = login("east_admin")  # the old sign-in has expired meanwhile
    assert east_items(login, areas)["A01"]["points"] == 3
    second = hours_entry(uid, areas, "2.00", 900002)
    assert east.post(f"/service-hours/{second}/transitions", json={"action": "approve"}).status_code == 200
    lines = db.session.execute(select(PointEntry.points, PointEntry.scheme_id).where(PointEntry.user_id == uid)
                               .order_by(PointEntry.id)).all()
    assert [points for points, _ in lines] == [4, 6]
    assert lines[0].scheme_id != draft["id"] and lines[1].scheme_id == draft["id"]


def test_approved_hours_pay_once_a_correction_pays_the_difference_and_a_rejection_reverses(login, areas):
    east = login("east_admin")
    volunteer = named(login, "孙丽华")
    uid = me(volunteer)["id"]
    entry_id = hours_entry(uid, areas, "3.00")
    assert entries(volunteer) == []  # pending hours earn nothing
    approved = east.post(f"/service-hours/{entry_id}/transitions", json={"action": "approve"})
    assert approved.status_code == 200
    assert east.post(f"/service-hours/{entry_id}/transitions", json={"action": "approve"}).status_code == 409
    assert volunteer.get("/points/me").get_json()["balance"] == 6
    corrected = east.post(f"/service-hours/{entry_id}/corrections", json={"reason": "核对签到", "hours": "2.00"})
    assert corrected.status_code == 200, corrected.get_json()
    assert volunteer.get("/points/me").get_json()["balance"] == 4
    rejected = east.post(f"/service-hours/{entry_id}/transitions", json={"action": "reject", "reason": "活动未举行"})
    assert rejected.status_code == 200
    lines = entries(volunteer)
    assert [(e["points"], e["kind"], e["source_type"]) for e in lines] == [
        (-4, "reverse", "service_hours"), (-2, "reverse", "service_hours"), (6, "earn", "service_hours")]
    assert volunteer.get("/points/me").get_json() | {"household_id": None} == {
        "balance": 0, "earned_total": 0, "earned_this_month": 0, "household_id": None}
    kinds = db.session.scalars(select(Notification.kind).where(Notification.user_id == uid)).all()
    assert kinds.count("points.received") == 3


def test_a_confirmed_wish_pays_its_member_once_and_praise_pays_up_to_the_cap(login, areas):
    admin = login("east_admin")
    member, registration = new_member(login, areas, name="周建华", admin=admin)
    resident = login.resident()
    wish = post_wish(resident, areas)
    act(admin, wish["id"], "approve")
    act(member, wish["id"], "claim")
    act(member, wish["id"], "fulfil", note="已修好", hours=1.5, photo_ids=[photo(member)])
    assert entries(member) == []
    act(resident, wish["id"], "confirm", rating=5)
    lines = entries(member)
    # A02 completes the wish (5); the wish's 1.5 hours still wait for the community to approve them.
    assert [(e["item_code"], e["points"]) for e in lines] == [("A02", 5)]
    act(resident, wish["id"], "confirm", status=409)
    assert len(entries(member)) == 1


def test_applications_need_another_person_of_the_items_approver(login, areas):
    items = east_items(login, areas)
    resident = named(login, "钱秀英")
    assert resident.post("/points/households", json={"place_id": _place("东城小区1号楼"), "room": "3单元502"}
                         ).status_code == 201
    auto = resident.post("/points/applications", json={"item_id": items["A01"]["id"], "note": "我参加了活动"})
    assert auto.status_code == 409
    applied = resident.post("/points/applications", json={"item_id": items["B01"]["id"], "note": "门前打扫干净了"})
    assert applied.status_code == 201, applied.get_json()
    app_id = applied.get_json()["id"]
    # grid_west1 is a grid worker elsewhere; dept_wy is no approver; the applicant never approves their own.
    assert login("grid_west1").post(f"/points/applications/{app_id}/decision", json={"approve": True}).status_code == 403
    assert login("dept_wy").post(f"/points/applications/{app_id}/decision", json={"approve": True}).status_code == 403
    assert resident.post(f"/points/applications/{app_id}/decision", json={"approve": True}).status_code == 403
    queue = login("grid_east1").get("/points/applications?mine=false&status=pending").get_json()["items"]
    assert app_id in [a["id"] for a in queue]
    assert app_id not in [a["id"] for a in login("west_admin").get("/points/applications?mine=false").get_json()["items"]]
    decided = login("grid_east1").post(f"/points/applications/{app_id}/decision", json={"approve": True})
    assert decided.status_code == 200 and decided.get_json()["status"] == "approved"
    assert login("east_admin").post(f"/points/applications/{app_id}/decision", json={"approve": True}).status_code == 409
    # The cap of B01 is 6 a month: the second application pays 3, the third nothing.
    for _ in range(2):
        again = resident.post("/points/applications", json={"item_id": items["B01"]["id"], "note": "又打扫了"})
        login("grid_east1").post(f"/points/applications/{again.get_json()['id']}/decision", json={"approve": True})
    assert [e["points"] for e in entries(resident)] == [3, 3]
    rejected = resident.post("/points/applications", json={"item_id": items["B02"]["id"], "note": "帮邻居"})
    no_reason = login("east_admin").post(f"/points/applications/{rejected.get_json()['id']}/decision",
                                         json={"approve": False})
    assert no_reason.status_code == 422


def _place(name: str) -> int:
    from app.areas.models import Place

    return db.session.scalar(select(Place.id).where(Place.name == name))


def test_a_household_book_adds_up_its_members_and_the_boards_mask_names(login, areas):
    items = east_items(login, areas)
    head, spouse = named(login, "吴国庆"), named(login, "郑美兰")
    created = head.post("/points/households", json={"place_id": _place("幸福里3号楼2单元"), "room": "601"})
    assert created.status_code == 201
    code = created.get_json()["join_code"]
    assert code and login.resident().post("/points/households/join", json={"join_code": "ZZZZZZ"}).status_code == 404
    joined = spouse.post("/points/households/join", json={"join_code": code}).get_json()
    assert joined["join_code"] is None and len(joined["members"]) == 2
    assert head.post("/points/households", json={"place_id": _place("幸福里3号楼2单元"), "room": "602"}
                     ).status_code == 409
    assert head.post("/points/household/leave").status_code == 409  # a head with members hands over first
    spouse_id = me(spouse)["id"]
    assert spouse.post("/points/household/head", json={"user_id": me(head)["id"]}).status_code == 403
    handed = head.post("/points/household/head", json={"user_id": spouse_id}).get_json()
    assert [m["is_head"] for m in handed["members"] if m["user_id"] == spouse_id] == [True]
    assert spouse.post("/points/household/head", json={"user_id": me(head)["id"]}).status_code == 200
    approver = login("east_admin")
    for api, code_, times in ((head, "B02", 2), (spouse, "B03", 1)):
        for _ in range(times):
            made = api.post("/points/applications", json={"item_id": items[code_]["id"], "note": "好人好事"})
            approver.post(f"/points/applications/{made.get_json()['id']}/decision", json={"approve": True})
    book = head.get("/points/household").get_json()
    assert book["earned"] == 20 and book["balance"] == 20
    assert sorted((m["name"], m["earned"]) for m in book["members"]) == [("我", 10), ("郑*兰", 10)]

    anonymous = login.anonymous()
    east = areas["东城社区"].id
    people = anonymous.get(f"/points/rankings?community_id={east}&period=month").get_json()
    board = {t["name"]: (t["points"], t["rank"]) for t in people["items"]}
    # 刘建军 earned 12 in the demo data: first; the couple tie for second.
    assert board["刘*军"] == (12, 1) and board["吴*庆"] == board["郑*兰"] == (10, 2)
    homes = anonymous.get(f"/points/rankings?community_id={east}&by=household&period=quarter").get_json()
    assert homes["items"][0] == {"rank": 1, "id": book["id"], "name": "吴*庆户", "points": 20}
    assert "幸福里" not in str(homes) and "601" not in str(homes)
    grid2 = anonymous.get(f"/points/rankings?community_id={east}&grid_id={areas['东城社区第二网格'].id}"
                          "&by=household").get_json()
    assert [i["id"] for i in grid2["items"]] == [book["id"]]
    # Paginated: one a page, the cursor walks on, ranks stay global.
    first = anonymous.get(f"/points/rankings?community_id={east}&limit=1").get_json()
    second = anonymous.get(f"/points/rankings?community_id={east}&limit=1&cursor={first['next_cursor']}").get_json()
    assert (first["items"][0]["rank"], second["items"][0]["rank"]) == (1, 2)
    assert anonymous.get(f"/points/rankings?community_id={areas['西园社区'].id}&grid_id="
                         f"{areas['东城社区第二网格'].id}").status_code == 404
    year = anonymous.get(f"/points/rankings?community_id={east}&period=year").get_json()
    assert year["period_label"].startswith("年度")


def test_a_reversal_is_a_new_line_and_never_takes_the_balance_below_zero(login, areas):
    items = east_items(login, areas)
    resident = named(login, "冯家和")
    made = resident.post("/points/applications", json={"item_id": items["B03"]["id"], "note": "丧事简办"})
    login("east_admin").post(f"/points/applications/{made.get_json()['id']}/decision", json={"approve": True})
    earned = entries(resident)[0]
    assert earned["points"] == 10
    east_shop = login.anonymous().get(f"/points/shop/items?community_id={areas['东城社区'].id}").get_json()["items"]
    lunch = next(i for i in east_shop if i["name"] == "社区食堂午餐券")
    assert resident.post(f"/points/shop/items/{lunch['id']}/redemptions").status_code == 201
    assert resident.get("/points/me").get_json()["balance"] == 0
    assert login("west_admin").post(f"/points/entries/{earned['id']}/reverse", json={"reason": "误记"}
                                    ).status_code == 403
    refused = login("east_admin").post(f"/points/entries/{earned['id']}/reverse", json={"reason": "误记"})
    assert refused.status_code == 409 and "余额" in refused.get_json()["message"]
    uid = me(resident)["id"]
    assert db.session.scalar(select(PointAccount.balance).where(PointAccount.user_id == uid)) == 0
    ledger_total = db.session.scalar(select(func.sum(PointEntry.points)).where(PointEntry.user_id == uid))
    assert ledger_total == 0


def test_the_supermarket_reserves_gives_a_code_and_returns_what_is_not_picked_up(login, areas):
    items = east_items(login, areas)
    east = login("east_admin")
    stock = east.post("/points/shop/items", json={"community_id": areas["东城社区"].id, "name": "手工布鞋",
                                                  "price": 5, "stock": 1})
    assert stock.status_code == 201
    assert login("west_admin").post("/points/shop/items", json={"community_id": areas["东城社区"].id,
                                                                 "name": "x", "price": 5, "stock": 1}).status_code == 403
    item_id = stock.get_json()["id"]
    buyer, other = named(login, "蒋文静"), named(login, "韩立新")
    poor = buyer.post(f"/points/shop/items/{item_id}/redemptions")
    assert poor.status_code == 409 and "余额不足" in poor.get_json()["message"]
    for api in (buyer, other):
        made = api.post("/points/applications", json={"item_id": items["B02"]["id"], "note": "照顾邻居老人"})
        east.post(f"/points/applications/{made.get_json()['id']}/decision", json={"approve": True})
    bought = buyer.post(f"/points/shop/items/{item_id}/redemptions")
    assert bought.status_code == 201
    redemption = bought.get_json()
    assert redemption["status"] == "reserved" and len(redemption["code"]) == 8
    sold_out = other.post(f"/points/shop/items/{item_id}/redemptions")
    assert sold_out.status_code == 409 and "兑完" in sold_out.get_json()["message"]
    assert buyer.get("/points/me").get_json()["balance"] == 0
    # Only staff of the community confirm the pick-up.
    assert login("grid_west1").post("/points/redemptions/pickup", json={"code": redemption["code"]}).status_code == 404
    assert other.post("/points/redemptions/pickup", json={"code": redemption["code"]}).status_code == 403
    staff_view = login("grid_east1").get("/points/redemptions?mine=false&status=reserved").get_json()["items"]
    assert redemption["id"] in [r["id"] for r in staff_view]
    picked = login("grid_east1").post("/points/redemptions/pickup", json={"code": redemption["code"]})
    assert picked.status_code == 200 and picked.get_json()["status"] == "picked_up"
    assert login("grid_east1").post("/points/redemptions/pickup", json={"code": redemption["code"]}).status_code == 409

    # A reservation not picked up within 7 days gives the stock and the points back.
    east.post(f"/points/shop/items/{item_id}/restock", json={"add": 1})
    unclaimed = other.post(f"/points/shop/items/{item_id}/redemptions").get_json()
    assert other.get("/points/me").get_json()["balance"] == 0
    travel(timedelta(days=8))
    from tasks.points import expire_redemptions

    assert expire_redemptions() == 2  # and the demo's lunch voucher of 刘建军
    # (the resident's sign-in has expired meanwhile: read the book directly)
    other_id = db.session.scalar(select(User.id).where(User.real_name == "韩立新"))
    assert db.session.scalar(select(PointAccount.balance).where(PointAccount.user_id == other_id)) == 5
    mine = db.session.execute(select(PointEntry.kind, PointEntry.points).where(PointEntry.user_id == other_id)
                              .order_by(PointEntry.id)).all()
    assert [tuple(row) for row in mine] == [("earn", 5), ("spend", -5), ("refund", 5)]
    assert expire_redemptions() == 0
    shop_items = login.anonymous().get(f"/points/shop/items?community_id={areas['东城社区'].id}").get_json()["items"]
    assert next(i for i in shop_items if i["id"] == item_id)["stock"] == 1
    assert unclaimed["status"] == "reserved"


def _marks(total_of_each: int) -> dict:
    """Scores on the demo's ten indicators (weights 10,10,10,10,15,10,10,10,5,10), each at most its weight."""
    weights = {"I01": 10, "I02": 10, "I03": 10, "I04": 10, "I05": 15, "I06": 10, "I07": 10, "I08": 10, "I09": 5,
               "I10": 10}
    return {code: min(weight, total_of_each) for code, weight in weights.items()}


def test_indicators_must_add_up_to_a_hundred(login, areas):
    bad = login("east_admin").post("/points/schemes", json={
        "community_id": areas["东城社区"].id, "items": [{"code": "C01", "name": "评议", "points": 10, "kind": "evaluated"}],
        "indicators": [{"code": "I01", "name": "遵纪守法", "weight": 50}, {"code": "I02", "name": "环保卫生", "weight": 40}]})
    assert bad.status_code == 422 and "合计 100" in bad.get_json()["message"]


def test_a_monthly_evaluation_goes_through_notice_an_objection_and_finalisation(login, areas):
    head, other_head = named(login, "卫东海"), named(login, "蒋红梅")
    mine = head.post("/points/households", json={"place_id": _place("东城小区1号楼"), "room": "4单元202"}).get_json()
    theirs = other_head.post("/points/households", json={"place_id": _place("东城小区2号楼"), "room": "1单元102"}
                             ).get_json()
    member = named(login, "卫小兰")
    member.post("/points/households/join", json={"join_code": mine["join_code"]})
    east, street = login("east_admin"), login("street_admin")
    period = to_local(utcnow()).strftime("%Y-%m")
    body = {"community_id": areas["东城社区"].id, "period": period, "scores": [
        {"household_id": mine["id"], "scores": _marks(7)},        # 7×9 + 5 = 68
        {"household_id": theirs["id"], "scores": _marks(10)}]}    # 95
    assert login("west_admin").post("/points/evaluations", json=body).status_code == 403
    assert head.post("/points/evaluations", json=body).status_code == 403
    too_high = east.post("/points/evaluations", json=body | {"scores": [
        {"household_id": mine["id"], "scores": _marks(10) | {"I09": 6}}]})
    assert too_high.status_code == 422 and "崇学重教" in too_high.get_json()["message"]
    made = east.post("/points/evaluations", json=body)
    assert made.status_code == 201, made.get_json()
    made = made.get_json()
    assert [(s["total"], s["tier"]) for s in made["scores"]] == [(95, "优秀"), (68, "合格")]
    assert east.post("/points/evaluations", json=body).status_code == 409
    eid = made["id"]
    # Not public while it is being scored; the maker cannot publish their own scores.
    assert login.anonymous().get(f"/points/evaluations/{eid}").status_code == 404
    refused = east.post(f"/points/evaluations/{eid}/publish")
    assert refused.status_code == 403 and "评分人" in refused.get_json()["message"]
    published = street.post(f"/points/evaluations/{eid}/publish")
    assert published.status_code == 200 and published.get_json()["status"] == "notice"
    public = login.anonymous().get(f"/points/evaluations/{eid}").get_json()
    assert [s["household"] for s in public["scores"]] == ["蒋*梅户", "卫*海户"]
    informed = db.session.scalars(select(Notification.user_id).where(
        Notification.kind == "points.evaluation_published")).all()
    assert {me(head)["id"], me(member)["id"], me(other_head)["id"]} <= set(informed)

    assert named(login, "路人甲").post(f"/points/evaluations/{eid}/objections", json={"reason": "不服"}
                                       ).status_code == 404
    objected = member.post(f"/points/evaluations/{eid}/objections",
                           json={"reason": "我家这个月参加了两次议事会，参与议事不应只得 7 分。"})
    assert objected.status_code == 201, objected.get_json()
    objection = objected.get_json()
    early = street.post(f"/points/evaluations/{eid}/finalise")
    assert early.status_code == 409 and "公示期" in early.get_json()["message"]

    travel(timedelta(days=5, minutes=1))
    east, street, member = login("east_admin"), login("street_admin"), None  # sign-ins expire over the week
    late = named(login, "卫小兰二").post(f"/points/evaluations/{eid}/objections", json={"reason": "晚了"})
    assert late.status_code == 404
    pending = street.post(f"/points/evaluations/{eid}/finalise")
    assert pending.status_code == 409 and "异议" in pending.get_json()["message"]
    answered = east.post(f"/points/objections/{objection['id']}/answer", json={
        "uphold": True, "answer": "经核实，参加议事会两次，参与议事改为 10 分。", "scores": _marks(7) | {"I10": 10}})
    assert answered.status_code == 200 and answered.get_json()["status"] == "upheld"
    assert east.post(f"/points/evaluations/{eid}/finalise").status_code == 403  # the maker
    final = street.post(f"/points/evaluations/{eid}/finalise")
    assert final.status_code == 200, final.get_json()
    final = final.get_json()
    assert final["status"] == "final"
    assert sorted((s["total"], s["tier"]) for s in final["scores"]) == [(71, "合格"), (95, "优秀")]
    assert street.post(f"/points/evaluations/{eid}/finalise").status_code == 409
    # The heads are paid once: 10 points for a full 100, in the evaluated month.
    paid = dict(db.session.execute(select(PointEntry.user_id, PointEntry.points).where(
        PointEntry.source_type == "evaluation_score")).all())
    head_id, other_id = (db.session.scalar(select(User.id).where(User.real_name == name)) for name in ("卫东海", "蒋红梅"))
    assert paid == {head_id: 7, other_id: 10}
    assert set(db.session.scalars(select(PointEntry.period).where(PointEntry.source_type == "evaluation_score"))) == \
        {period}
    told = db.session.scalars(select(Notification.kind).where(Notification.kind == "points.objection_answered"))
    assert len(told.all()) == 1


def test_a_yearly_cash_out_shares_the_pool_exactly_by_household_points_and_exports(login, areas):
    from io import BytesIO

    from openpyxl import load_workbook

    from app.points.cashout import shares

    # Pure and exact: 100.00 yuan over 1 : 1 : 1 is 33.34 + 33.33 + 33.33, the odd fen to the lower id.
    assert [r["share"] for r in shares(Decimal("100.00"), {7: 1, 5: 1, 9: 1})] == ["33.34", "33.33", "33.33"]
    assert [r["share"] for r in shares(Decimal("10"), {1: 0, 2: -3})] == ["0.00", "0.00"]

    items = east_items(login, areas)
    head = named(login, "褚建平")
    home = head.post("/points/households", json={"place_id": _place("幸福里3号楼2单元"), "room": "101"}).get_json()
    made = head.post("/points/applications", json={"item_id": items["B03"]["id"], "note": "婚事新办"}).get_json()
    east = login("east_admin")
    east.post(f"/points/applications/{made['id']}/decision", json={"approve": True})
    year = to_local(utcnow()).year
    east_id = areas["东城社区"].id
    assert login("west_admin").post("/points/cashouts", json={"community_id": east_id, "year": year,
                                                              "income": "100000"}).status_code == 403
    computed = east.post("/points/cashouts", json={"community_id": east_id, "year": year, "income": "100000.00"})
    assert computed.status_code == 201, computed.get_json()
    result = computed.get_json()
    assert result["pool"] == "20000.00" and result["percent"] == 20 and result["reproduced"] is True
    shares_by_home = {r["household_id"]: (r["points"], r["share"]) for r in result["rows"]}
    assert sum(Decimal(share) for _, share in shares_by_home.values()) == Decimal("20000.00")
    assert shares_by_home[home["id"]][0] == 10
    total = result["total_points"]
    assert abs(Decimal(shares_by_home[home["id"]][1]) - Decimal(20000) * 10 / total) < Decimal("0.01")
    assert east.post("/points/cashouts", json={"community_id": east_id, "year": year, "income": "1"}
                     ).status_code == 409
    public = login.anonymous().get(f"/points/cashouts/{result['id']}").get_json()
    assert "褚*平户" in [r["household"] for r in public["rows"]] and "幸福里" not in str(public["rows"])

    exported = east.get(f"/points/cashouts/{result['id']}/export.xlsx")
    assert exported.status_code == 200 and "spreadsheetml" in exported.mimetype
    sheet = load_workbook(BytesIO(exported.get_data())).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[1][:2] == ["集体经济收益（元）", "100000.00"] and values[4] == ["序号", "家庭户", "全年积分", "分红金额（元）"]
    assert any(row[1] == "幸福里3号楼2单元101（户主 褚建平）" and row[2] == 10 for row in values[5:])
    assert round(sum(row[3] for row in values[5:]), 2) == 20000
    assert login("west_admin").get(f"/points/cashouts/{result['id']}/export.xlsx").status_code == 403

    # A later reversal in that year shows: the kept result no longer follows from the ledger.
    entry = next(e for e in entries(head) if e["item_code"] == "B03")
    assert east.post(f"/points/entries/{entry['id']}/reverse", json={"reason": "重复申报"}).status_code == 201
    assert login.anonymous().get(f"/points/cashouts/{result['id']}").get_json()["reproduced"] is False


def test_a_party_members_points_show_on_the_record_and_in_the_employer_report(login, areas):
    """双积分: the member's community points beside the service record, and in the report to the employer."""
    import csv
    import io

    from app.members.models import PartyMember

    member = db.session.scalar(select(PartyMember).where(PartyMember.status == "approved",
                                                         PartyMember.area_path.startswith(areas["东城社区"].path)))
    east = login("east_admin")
    record = east.get(f"/party-members/{member.id}/record").get_json()
    earned = db.session.scalar(select(func.sum(PointEntry.points)).where(
        PointEntry.user_id == member.user_id, PointEntry.kind.in_(("earn", "reverse"))))
    assert record["points"]["earned"] == earned > 0
    assert record["points"]["balance"] == db.session.scalar(
        select(PointAccount.balance).where(PointAccount.user_id == member.user_id))
    report = east.get(f"/party-members/{member.id}/report.csv")
    rows = list(csv.reader(io.StringIO(report.get_data().decode("utf-8-sig"))))
    line = next(r for r in rows if r and r[0] == "社区积分（双积分）")
    assert line[1].startswith(f"期间获得 {earned} 分")


def test_periods_that_do_not_exist_are_a_chinese_422(login, areas):
    east = areas["东城社区"].id
    for query in ("period=month&at=2026-13", "period=month&at=2026-00", "period=quarter&at=2026-Q5",
                  "period=year&at=abcd", "period=quarter&at=2026"):
        res = login.anonymous().get(f"/points/rankings?community_id={east}&{query}")
        assert res.status_code == 422 and "期间格式" in res.get_json()["message"], query
    bad_month = login("east_admin").post("/points/evaluations", json={
        "community_id": east, "period": "2026-00", "scores": [{"household_id": 1, "scores": {}}]})
    assert bad_month.status_code == 422


def test_the_points_book_export_adds_up_to_the_balances(login, areas):
    from io import BytesIO

    from openpyxl import load_workbook

    east = login("east_admin")
    year = to_local(utcnow()).year
    res = east.get(f"/points/entries/export.xlsx?community_id={areas['东城社区'].id}&year={year}")
    assert res.status_code == 200 and "spreadsheetml" in res.mimetype
    rows = [[c.value for c in row] for row in load_workbook(BytesIO(res.get_data())).active.iter_rows()]
    assert rows[0][:7] == ["记录号", "月份", "姓名", "家庭户", "积分项目", "类别", "积分"]
    by_person: dict[str, int] = {}
    for row in rows[1:]:
        by_person[row[2]] = by_person.get(row[2], 0) + row[6]
    # Every line of the ledger moves a balance: per person, the lines add up to what they hold.
    balances = dict(db.session.execute(select(User.real_name, PointAccount.balance)
                                       .join(PointAccount, PointAccount.user_id == User.id)
                                       .where(User.real_name.in_(list(by_person)))).all())
    assert balances and all(by_person[name] == balance for name, balance in balances.items()), (by_person, balances)
    assert login("west_admin").get(f"/points/entries/export.xlsx?community_id={areas['东城社区'].id}&year={year}"
                                   ).status_code == 403
