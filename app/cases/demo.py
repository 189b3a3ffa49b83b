"""Demo data for cases: categories with time limits, canned replies, the 2026 holidays and a few cases."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from app.accounts.service import actor_for
from app.cases import service
from app.cases.models import CannedReply, Case, Category, Holiday
from app.extensions import db

# name, acceptance limit (h), handling limit (h), working days only
CATEGORIES = [
    ("环境卫生", 4, 24, False),
    ("占道经营", 4, 48, False),
    ("设施损坏", 24, 72, True),
    ("噪音扰民", 2, 24, False),
    ("邻里纠纷", 24, 120, True),
    ("安全隐患", 1, 24, False),
]

REPLIES = {
    "环境卫生": [("已安排保洁", "您反映的问题已安排保洁人员清理，感谢您对社区环境的关心。")],
    "占道经营": [("已劝导整改", "网格员已到现场劝导经营户将货物收回店内，并将持续巡查。"),
             ("移交城管", "该问题已移交城管执法中队依法处理。")],
    "设施损坏": [("已报修", "已联系物业和维修单位，维修完成后会第一时间反馈。")],
    "噪音扰民": [("已上门提醒", "已上门提醒相关住户遵守作息时间，施工须在规定时段内进行。")],
    "邻里纠纷": [("已约谈调解", "社区调解员已约双方当面沟通，后续将跟进回访。")],
    "安全隐患": [("已现场处置", "已到现场排除隐患，并对住户进行了安全提醒。"),
             ("不属于受理范围", "经核实，该问题不属于社区受理范围，建议拨打相关部门热线。")],
}

# The 2026 public holidays and weekend workdays (调休), as published by the State Council.
HOLIDAYS_2026 = [
    ("元旦", dt.date(2026, 1, 1), dt.date(2026, 1, 3)),
    ("春节", dt.date(2026, 2, 15), dt.date(2026, 2, 23)),
    ("清明节", dt.date(2026, 4, 4), dt.date(2026, 4, 6)),
    ("劳动节", dt.date(2026, 5, 1), dt.date(2026, 5, 5)),
    ("端午节", dt.date(2026, 6, 19), dt.date(2026, 6, 21)),
    ("中秋节", dt.date(2026, 9, 25), dt.date(2026, 9, 27)),
    ("国庆节", dt.date(2026, 10, 1), dt.date(2026, 10, 7)),
]
WORKDAYS_2026 = [dt.date(2026, 1, 4), dt.date(2026, 2, 14), dt.date(2026, 2, 28), dt.date(2026, 5, 9),
                 dt.date(2026, 9, 20), dt.date(2026, 10, 10)]

# place, category, description, anonymous, steps [(staff username, action, args)], rating
DEMO_CASES = [
    ("东城小区1号楼", "环境卫生", "3单元楼道里堆放纸箱和旧家具好几天了，影响通行。", False, [], None),
    ("老王便民超市", "占道经营", "超市门口货架摆到了人行道上，行人只能走机动车道。", False,
     [("grid_east1", "accept", {"note": "已收到，马上去现场看看。"})], None),
    ("日晷公园东门", "设施损坏", "公园东门的路灯不亮已经一周了，晚上散步很不安全。", False,
     [("grid_east2", "accept", {}),
      ("grid_east2", "escalate", {"note": "线路老化，需要住建部门维修。"}),
      ("east_admin", "dispatch", {"department": "住建物业办", "note": "请三日内修复。"})], None),
    ("幸福里3号楼2单元", "噪音扰民", "楼上装修每天晚上九点以后还在用电钻。", True,
     [("grid_east2", "accept", {}),
      ("grid_east2", "handle", {"note": "已上门提醒，住户承诺晚上八点后停工。"})], None),
    ("东城小区2号楼", "安全隐患", "2号楼下有人从窗户拉电线给电动车充电，有火灾隐患。", False,
     [("grid_east1", "accept", {}),
      ("grid_east1", "handle", {"note": "已拆除飞线，引导住户到充电棚充电。"}),
      ("east_admin", "verify", {"passed": True, "note": "现场核查，隐患已消除。"})],
     (5, "网格员当天就来处理了，很及时！")),
    ("西园小区5号楼", "邻里纠纷", "楼上住户长期从阳台往下扔垃圾，沟通过几次都没用。", True, [], None),
    ("西园菜市场", "环境卫生", "菜市场门口污水横流，气味很大。", False,
     [("west_admin", "accept", {}),
      ("west_admin", "dispatch", {"department": "城管执法中队"})], None),
]


def _seed_categories() -> dict[str, Category]:
    found = {c.name: c for c in db.session.scalars(select(Category))}
    for name, accept_hours, handle_hours, working_days in CATEGORIES:
        if name not in found:
            category = Category(name=name, accept_hours=accept_hours, handle_hours=handle_hours,
                                working_days=working_days, active=True)
            db.session.add(category)
            found[name] = category
    db.session.flush()
    for name, replies in REPLIES.items():
        existing = set(db.session.scalars(select(CannedReply.title).where(CannedReply.category_id == found[name].id)))
        for title, body in replies:
            if title not in existing:
                db.session.add(CannedReply(category_id=found[name].id, title=title, body=body))
    return found


def _seed_holidays() -> int:
    existing = set(db.session.scalars(select(Holiday.date)))
    days = {}
    for name, first, last in HOLIDAYS_2026:
        for offset in range((last - first).days + 1):
            days[first + dt.timedelta(days=offset)] = (name, False)
    for day in WORKDAYS_2026:
        days[day] = ("调休上班", True)
    for day, (name, is_workday) in days.items():
        if day not in existing:
            db.session.add(Holiday(date=day, name=name, is_workday=is_workday))
    db.session.flush()
    return len(days)


def _seed_cases(categories: dict[str, Category], places, users, departments) -> int:
    by_name = {p.name: p for p in places}
    reporter = actor_for(users["member_east"])
    created = 0
    for place_name, category_name, text, anonymous, steps, rating in DEMO_CASES:
        if db.session.scalar(select(Case.id).where(Case.description == text)):
            continue
        case, _, _ = service.report_case(reporter, place_id=by_name[place_name].id,
                                      category_id=categories[category_name].id, description=text,
                                      anonymous=anonymous)
        for username, action, args in steps:
            args = dict(args)
            if "department" in args:
                args["department_id"] = departments[args.pop("department")].id
            service.transition(actor_for(users[username]), case.id, action, **args)
        if rating:
            service.rate_case(reporter, case.id, score=rating[0], comment=rating[1])
        created += 1
    return created


def seed_demo(*, areas, places, users, departments) -> list[str]:
    categories = _seed_categories()
    holidays = _seed_holidays()
    _seed_cases(categories, places, users, departments)
    total = db.session.scalar(select(func.count(Case.id)))
    return [f"问题类别 {len(categories)} 个，节假日日历 {holidays} 天，事件 {total} 件"]
