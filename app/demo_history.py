"""Demo history: six months of life in the demo street, so that every chart and ranking of the console has a
real shape (a weekly trend of many points, hours by month, the per-grid table, the rankings).

Cases, wishes, volunteer service hours, praise and suggestions are made through the domains' own services with
the clock moved back to the moment of each step (app.core.time.travel), so their timelines, deadlines, points
and figures are what those steps would have written. Each case has a planned life (reported, accepted, handled
on the spot or dispatched, checked, rated; now and then refused, withdrawn, returned by the check or reopened);
its steps run in time order up to now, so recent cases are still open and some are overdue, as the deadline
sweep would have marked them. Deterministic (a seeded random), idempotent (nothing is added once the history's
first resident has a case) and a few seconds long. The rollups are rebuilt at the end (app/stats/rollups.py).

The history's residents carry a `demo_history_*` username without a password: they cannot sign in, and the
content check treats their words as a staff account's, so seeding calls no WeChat API.
"""
from __future__ import annotations

import heapq
import io
import itertools
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from PIL import Image
from sqlalchemy import select, update

from app.accounts.models import User
from app.accounts.service import actor_for, set_phone
from app.cases import service as cases
from app.cases.models import Case, Category
from app.cases.states import TIMED
from app.core.scoping import Actor
from app.core.time import SHANGHAI, to_local, travel, utcnow
from app.core.workflow import record
from app.extensions import db
from app.media.service import save_upload
from app.members import service as members
from app.members.models import APPROVED as MEMBER_APPROVED
from app.members.models import PartyMember
from app.notifications.models import SKIPPED, Notification
from app.praise.models import Praise
from app.stats import rollups
from app.suggestions import service as suggestions
from app.suggestions.models import Representative
from app.volunteering import ledger
from app.volunteering.models import Activity
from app.volunteering.states import PUBLISHED
from app.wishes import service as wishes

SEED = 20260601
WEEKS = 26
USERNAME = "demo_history_{:02d}"
RESIDENTS = ["周桂芳", "吴建国", "郑秀梅", "孙立新", "钱玉兰", "冯志强", "陈美华", "褚海涛", "卫淑珍", "蒋文斌",
             "沈丽娟", "韩德明"]
MEMBERS = [("杨晓东", "沁源县人民医院党总支", ["助老", "健康咨询"]),
           ("朱丽萍", "沁源县实验小学党支部", ["学业辅导", "文艺"]),
           ("秦国强", "沁源县自来水公司党支部", ["水电维修"])]

# category -> what residents write
TEXTS = {
    "环境卫生": ["楼道里堆满了纸箱和旧家具，影响通行。", "垃圾桶满了一整天没人清运，气味很大。",
             "绿化带里有很多白色垃圾，没人清理。", "小区门口污水外溢，路面很滑。"],
    "占道经营": ["商户把货架摆到了人行道上，行人只能走机动车道。", "早市摊贩占满了消防通道。",
             "门口烧烤摊晚上占道经营，油烟很大。"],
    "设施损坏": ["路灯不亮好几天了，晚上走路很不安全。", "单元门禁坏了，陌生人随便进出。",
             "健身器材的螺丝松了，老人锻炼有危险。", "井盖破损下沉，电动车经过容易摔。"],
    "噪音扰民": ["楼上装修晚上九点以后还在用电钻。", "广场舞音响声音太大，一直跳到很晚。",
             "夜里有车辆改装排气管轰鸣。"],
    "邻里纠纷": ["楼上住户往楼下扔垃圾，沟通几次都没用。", "邻居在楼道里长期堆放杂物，协商不成。",
             "邻居家的狗经常在楼道里便溺。"],
    "安全隐患": ["有人从窗户拉电线给电动车充电，有火灾隐患。", "楼道里停放电动车，堵住了安全出口。",
             "燃气管道附近有人堆放易燃物品。"],
}
CATEGORY_WEIGHTS = {"环境卫生": 30, "占道经营": 14, "设施损坏": 22, "噪音扰民": 14, "邻里纠纷": 8, "安全隐患": 12}
RESULTS = {
    "环境卫生": "已安排保洁人员清理干净，并提醒住户按时投放。", "占道经营": "已劝导经营户将货物收回店内，将持续巡查。",
    "设施损坏": "已联系物业维修完毕，恢复正常使用。", "噪音扰民": "已上门提醒，住户承诺按规定时段施工。",
    "邻里纠纷": "社区调解员已约双方当面沟通，达成一致。", "安全隐患": "已现场排除隐患，并对住户进行了安全提醒。",
}
COMMENTS = {5: ["处理得很及时，谢谢！", "网格员当天就来了，很满意。", ""], 4: ["解决了，就是慢了一点。", ""],
            3: ["基本解决，希望以后多巡查。"], 2: ["拖了好几天才处理。"], 1: ["问题还在，没有真正解决。"]}
# place name -> (grid worker, community admin)
STAFF = {"东城社区第一网格": ("grid_east1", "east_admin"), "东城社区第二网格": ("grid_east2", "east_admin"),
         "西园社区第一网格": ("grid_west1", "west_admin")}
DEPARTMENTS = {"占道经营": "城管执法中队", "设施损坏": "住建物业办"}
# Cases reported within this window may be stuck, and overdue by now.
STALL_WINDOW = timedelta(days=30)


@dataclass(order=True)
class Step:
    at: datetime
    order: int
    run: object = field(compare=False)


class Clock:
    """Moves app.core.time's clock to the moment of each step, and back to now at the end."""

    def __init__(self) -> None:
        self.now = utcnow()
        self.moved = timedelta(0)

    def at(self, moment: datetime) -> None:
        delta = moment - utcnow()
        travel(delta)
        self.moved += delta

    def restore(self) -> None:
        travel(-self.moved)
        self.moved = timedelta(0)


def _local(day: date, hour: float) -> datetime:
    return (datetime(day.year, day.month, day.day, tzinfo=SHANGHAI) + timedelta(hours=hour)).astimezone(UTC)


def _user(username: str, name: str, phone: str) -> User:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        user = User(username=username, display_name=name, real_name=name)
        set_phone(user, phone)
        db.session.add(user)
        db.session.flush()
    return user


def _photo(actor) -> int:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (214, 228, 240)).save(buffer, "PNG")
    return save_upload(actor, buffer.getvalue(), "service.png").id


# -- cases ----------------------------------------------------------------------------------------

def _case_life(rng: random.Random, reported: datetime, now: datetime, place, category: Category, reporter, users, departments):
    """The planned steps of one case after its report: [(hours after the report, actor, action, args)]."""
    worker, admin = (users[name] for name in STAFF[place.grid.name])
    fate = rng.random()
    t = rng.uniform(0.3, 1.0) * category.accept_hours * (3.5 if rng.random() < 0.08 else 1.0)
    if fate < 0.05:
        return [(t, worker, "reject", {"reason": "经核实，该问题属于小区物业合同范围，已告知物业服务电话。"})]
    if fate < 0.08:
        return [(t * 0.5, reporter, "withdraw", {"note": "问题已经自行解决了。"})]
    steps = [(t, worker, "accept", {"note": "已收到，尽快到现场查看。"})]
    handle_in = rng.uniform(0.15, 0.9) * category.handle_hours * (2.5 if rng.random() < 0.1 else 1.0)
    department = DEPARTMENTS.get(category.name)
    if department and rng.random() < 0.6:
        t += rng.uniform(1, 6)
        steps.append((t, admin, "dispatch", {"department_id": departments[department].id,
                                             "note": "请三日内到现场处置并反馈结果。"}))
        handler = users["dept_cg" if department == "城管执法中队" else "dept_wy"]
    else:
        handler = worker
    t += handle_in
    steps.append((t, handler, "handle", {"note": RESULTS[category.name]}))
    t += rng.uniform(2, 20)
    if rng.random() < 0.07:
        steps.append((t, admin, "verify", {"passed": False, "reason": "现场复核仍有遗留，请彻底处理。"}))
        t += rng.uniform(4, 30)
        steps.append((t, handler, "handle", {"note": "已再次处理，现场已清理完毕。"}))
        t += rng.uniform(2, 12)
    steps.append((t, admin, "verify", {"passed": True, "note": "现场核查，问题已解决。"}))
    if rng.random() < 0.05:
        t += rng.uniform(20, 100)
        steps.append((t, reporter, "reopen", {"reason": "过了几天问题又出现了，请再处理一次。"}))
        t += rng.uniform(6, 40)
        steps.append((t, worker, "handle", {"note": "已再次处理，并安排每周巡查。"}))
        t += rng.uniform(2, 12)
        steps.append((t, admin, "verify", {"passed": True, "note": "复查通过。"}))
    if rng.random() < 0.85:
        score = rng.choices((5, 4, 3, 2, 1), weights=(55, 28, 10, 4, 3))[0]
        steps.append((t + rng.uniform(1, 60), reporter, "rate", {"score": score, "comment": rng.choice(COMMENTS[score])}))
    if now - reported < STALL_WINDOW and rng.random() < 0.3:
        # Stuck after its acceptance or dispatch: the deadline passes and the case is overdue.
        return steps[:2 if steps[1][2] == "dispatch" else 1]
    return steps


def _case_step(case_id: int, actor_user, action: str, args: dict):
    def run():
        if action == "rate":
            cases.rate_case(actor_for(actor_user), case_id, **args)
        else:
            cases.transition(actor_for(actor_user), case_id, action, **args)
    return run


def _plan_cases(rng, clock, start: date, places, users, departments, residents, queue: list) -> None:
    categories = {c.name: c for c in db.session.scalars(select(Category))}
    names, weights = list(CATEGORY_WEIGHTS), list(CATEGORY_WEIGHTS.values())
    for week in range(WEEKS):
        # More reports in summer and after holidays, fewer in the first weeks: a trend with a shape.
        count = max(2, round(3 + 3 * (week / WEEKS) + rng.choice((-2, -1, 0, 0, 1, 2))))
        for _ in range(count):
            day = start + timedelta(days=week * 7 + rng.randrange(7))
            reported = _local(day, rng.uniform(7, 21.5))
            if reported >= clock.now:
                continue
            category = categories[rng.choices(names, weights)[0]]
            place = rng.choice(places)
            reporter = rng.choice(residents)
            text = rng.choice(TEXTS[category.name])

            def report(place=place, category=category, reporter=reporter, text=text, reported=reported):
                filed = cases.report_case(actor_for(reporter), place_id=place.id, category_id=category.id,
                                          description=text, anonymous=rng.random() < 0.15)
                life = _case_life(rng, reported, clock.now, place, category, reporter, users, departments)
                for hours, actor_user, action, args in life:
                    moment = reported + timedelta(hours=hours)
                    if moment < clock.now:
                        heapq.heappush(queue, Step(moment, next(_counter), _case_step(
                            filed.case.id, actor_user, action, args)))
            heapq.heappush(queue, Step(reported, next(_counter), report))


# Breaks ties between steps planned for the same moment: first planned, first run.
_counter = itertools.count(1)


def _mark_overdue(now: datetime) -> int:
    """What the deadline sweep would have done by now: running deadlines that passed are overdue."""
    late = list(db.session.scalars(select(Case).where(Case.status.in_(TIMED), Case.due_at <= now,
                                                      Case.overdue.is_(False))))
    for case in late:
        case.overdue, case.remind_at = True, None
        stage = "受理" if case.status == "submitted" else "办理"
        event = record("case", case.id, Actor.anonymous(), "system", "overdue", case.status, case.status,
                       note=f"{stage}已超过时限", data={"stage": stage})
        event.created_at = case.due_at
    return len(late)


# -- wishes, service hours, praise, suggestions -------------------------------------------------------

def _members(areas, users) -> list[User]:
    """The party members who serve: 刘党员 of the demo and three more, registered and approved."""
    found = [users["member_east"]]
    east, admin = areas["东城社区"], actor_for(users["east_admin"])
    for index, (name, org, skills) in enumerate(MEMBERS):
        user = _user(f"demo_history_member_{index + 1}", name, f"1370001{index:04d}")
        approved = db.session.scalar(select(PartyMember.id).where(PartyMember.user_id == user.id,
                                                                  PartyMember.status == MEMBER_APPROVED))
        if approved is None:
            registered = members.register(actor_for(user), name=name, org_name=org, community_id=east.id,
                                          grid_id=areas["东城社区第一网格"].id, skills=skills, availability="周末")
            members.review(admin, registered["id"], "approve")
        found.append(user)
    return found


WISHES = [("想请人帮忙换个灯泡", "repair"), ("教我用手机挂号", "digital"), ("陪老人去医院复查", "daily"),
          ("孩子数学作业想请人辅导", "study"), ("帮忙修一下漏水的水管", "repair"), ("想学用微信视频", "digital")]


def _plan_wishes(rng, clock, start: date, areas, users, residents, servers, queue) -> None:
    east, admin = areas["东城社区"], users["east_admin"]
    grids = [areas["东城社区第一网格"], areas["东城社区第二网格"]]
    for _ in range(20):
        posted = _local(start + timedelta(days=rng.randrange(WEEKS * 7 - 10)), rng.uniform(8, 20))
        title, category = rng.choice(WISHES)
        requester, server = rng.choice(residents[:6]), rng.choices(servers, weights=(4, 3, 2, 1))[0]
        grid = rng.choice(grids)

        def post(requester=requester, server=server, grid=grid, title=title, category=category, posted=posted):
            me = actor_for(requester)
            made = wishes.create_wish(me, title=title, category=category, grid_id=grid.id, community_id=east.id,
                                      detail="家里老人行动不便，想请党员同志帮帮忙。", address=f"{grid.name}住户",
                                      contact_name=requester.display_name,
                                      desired_date=to_local(utcnow()).date() + timedelta(days=5))
            wish_id = made["id"]
            approved = posted + timedelta(hours=rng.uniform(0.5, 6))
            claimed = approved + timedelta(hours=rng.uniform(1, 40))
            steps = [(approved, admin, "approve", {})]
            steps.append((claimed, server, "claim", {}))
            fulfilled = claimed + timedelta(hours=rng.uniform(6, 72))
            steps.append((fulfilled, server, "fulfil", {"note": "已上门完成，老人很满意。",
                                                        "hours": rng.choice((1, 1.5, 2, 2.5, 3))}))
            confirmed = fulfilled + timedelta(hours=rng.uniform(2, 30))
            steps.append((confirmed, requester, "confirm",
                          {"rating": rng.choice((5, 5, 5, 4)), "comment": "谢谢党员同志！"}))
            steps.append((confirmed + timedelta(hours=rng.uniform(2, 48)), admin, "approve_hours",
                          {"user_id": server.id}))
            for moment, who, action, args in steps:
                if moment < clock.now:
                    heapq.heappush(queue, Step(moment, next(_counter), _wish_step(wish_id, who, action, args)))
        heapq.heappush(queue, Step(posted, next(_counter), post))


def _wish_step(wish_id: int, who: User, action: str, args: dict):
    def run():
        if action == "approve_hours":
            entry = ledger.find_entry(args["user_id"], "wish", wish_id)
            ledger.transition_hours(actor_for(who), entry.id, "approve")
            return
        if action == "fulfil":
            args["photo_ids"] = [_photo(actor_for(who))]
        wishes.transition(actor_for(who), wish_id, action, **args)
    return run


ACTIVITIES = [("敬老院陪伴", "沁河镇敬老院"), ("日晷公园环境清洁", "日晷公园东门广场"),
              ("垃圾分类宣传", "西园菜市场"), ("文明交通劝导", "东城街路口"), ("社区义诊", "东城社区服务站")]


def _activities(rng, clock, start: date, areas, users, volunteers) -> int:
    """Two or three activities a month, with their volunteers' hours approved by the community."""
    made = 0
    for month in range(6):
        for slot in range(rng.choice((2, 3))):
            day = start + timedelta(days=month * 30 + slot * 10 + rng.randrange(8))
            starts = _local(day, rng.choice((9, 14)))
            ends = starts + timedelta(hours=rng.choice((2, 3)))
            if ends >= clock.now:
                continue
            title, place = rng.choice(ACTIVITIES)
            west = rng.random() < 0.3
            community = areas["西园社区" if west else "东城社区"]
            admin = users["west_admin" if west else "east_admin"]
            clock.at(starts - timedelta(days=5))
            activity = Activity(title=title, description=f"{title}志愿服务。", starts_at=starts, ends_at=ends,
                                place_text=place, capacity=20, enroll_deadline=starts, area_id=community.id,
                                area_path=community.path, organiser_name=f"{community.name}党支部",
                                scene=f"ah{SEED % 1000}{month}{slot}{rng.randrange(10**6):06d}", status=PUBLISHED,
                                created_by=admin.id, enrolled_count=0, next_position=1)
            db.session.add(activity)
            db.session.flush()
            record("activity", activity.id, actor_for(admin), "community_admin", "publish", None, PUBLISHED)
            clock.at(ends + timedelta(hours=rng.uniform(2, 48)))
            for user in rng.sample(volunteers, rng.randint(2, 5)):
                entry = ledger.credit_hours(
                    user_id=user.id, source_type="activity", source_id=activity.id,
                    hours=(ends - starts).total_seconds() / 3600, area_path=community.path, description=title,
                    organiser_area_id=community.id, organiser_name=activity.organiser_name, served_on=day,
                    place=place, started_at=starts, ended_at=ends, recorded_by=admin.id)
                ledger.transition_hours(actor_for(admin), entry.id, "approve")
            made += 1
    return made


PRAISE_MESSAGES = ["办事认真负责，谢谢！", "服务热情，点个赞。", "问题当天就解决了。", "耐心细致，好人！"]


def _praise(rng, start: date, places, users, residents) -> int:
    targets = [("grid_worker", users["grid_east1"].id, "东城社区第一网格", 6),
               ("grid_worker", users["grid_east2"].id, "东城社区第二网格", 4),
               ("grid_worker", users["grid_west1"].id, "西园社区第一网格", 3),
               ("party_member", users["member_east"].id, None, 3)]
    by_grid = {}
    for place in places:
        by_grid.setdefault(place.grid.name, []).append(place)
    made = 0
    for _ in range(60):
        kind, target_id, grid, weight = rng.choices(targets, weights=[t[3] for t in targets])[0]
        place = rng.choice(by_grid[grid] if grid else by_grid["东城社区第一网格"])
        if rng.random() < 0.2:  # a shop or a place itself
            kind, target_id = ("merchant" if place.kind == "shop" else "place"), place.id
        day = start + timedelta(days=rng.randrange(WEEKS * 7))
        at = _local(day, rng.uniform(8, 20))
        user = rng.choice(residents)
        exists = db.session.scalar(select(Praise.id).where(Praise.user_id == user.id, Praise.target_type == kind,
                                                           Praise.target_id == target_id, Praise.day == day))
        if exists is None:
            db.session.add(Praise(user_id=user.id, target_type=kind, target_id=target_id, place_id=place.id,
                                  message=rng.choice(PRAISE_MESSAGES), area_path=place.area_path, day=day,
                                  created_at=at))
            made += 1
    db.session.flush()
    return made


SUGGESTIONS = [("建议增设老年人助餐点", "社区老人多，子女不在身边，吃饭不方便，建议开设助餐点。"),
               ("建议在小区增加充电桩", "电动车充电难，飞线充电隐患大，建议增设集中充电桩。"),
               ("建议改善菜市场周边停车", "早高峰菜市场门口车辆乱停，建议规划临时停车位。"),
               ("建议公园增加夜间照明", "公园晚上散步的人多，部分路段太暗，建议增加照明。")]


def _suggestions(rng, clock, start: date, users, departments, residents) -> int:
    reps = list(db.session.scalars(select(Representative).where(Representative.user_id.is_not(None))))
    if not reps:
        return 0
    rep_user = db.session.get(User, reps[0].user_id)
    made = 0
    for index in range(10):
        title, body = SUGGESTIONS[index % len(SUGGESTIONS)]
        at = _local(start + timedelta(days=index * 17 + rng.randrange(10)), rng.uniform(9, 20))
        if at + timedelta(days=12) >= clock.now:
            continue
        resident = actor_for(rng.choice(residents))
        clock.at(at)
        made_one = suggestions.submit(resident, representative_id=reps[0].id, title=title, body=body,
                                      allow_publication=True)
        rep = actor_for(rep_user)
        clock.at(at + timedelta(hours=rng.uniform(4, 48)))
        suggestions.transition(rep, made_one.id, "accept")
        clock.at(at + timedelta(hours=rng.uniform(50, 80)))
        suggestions.transition(rep, made_one.id, "refer", department_id=departments["城管执法中队"].id,
                               due_at=utcnow() + timedelta(days=10), note="请研究办理。")
        clock.at(at + timedelta(days=rng.uniform(5, 9)))
        suggestions.transition(actor_for(users["dept_cg"]), made_one.id, "reply", note="已列入本年度工作计划，正在推进。")
        clock.at(at + timedelta(days=10))
        suggestions.transition(rep, made_one.id, "close", note="感谢您的建议，将持续跟进。")
        clock.at(at + timedelta(days=11))
        suggestions.rate(resident, made_one.id, score=rng.choice((5, 4, 4, 3)))
        made += 1
    return made


# -- the whole history ------------------------------------------------------------------------------

def seed_history(*, areas, places, users, departments) -> list[str]:
    residents = [_user(USERNAME.format(i + 1), name, f"1390002{i:04d}") for i, name in enumerate(RESIDENTS)]
    if db.session.scalar(select(Case.id).where(Case.reporter_id == residents[0].id).limit(1)):
        return []
    rng = random.Random(SEED)
    first_notice = db.session.scalar(select(Notification.id).order_by(Notification.id.desc()).limit(1)) or 0
    clock = Clock()
    start = to_local(clock.now).date() - timedelta(weeks=WEEKS)
    try:
        servers = _members(areas, users)
        queue: list[Step] = []
        _plan_cases(rng, clock, start, places, users, departments, residents, queue)
        _plan_wishes(rng, clock, start, areas, users, residents, servers, queue)
        steps = 0
        while queue:
            step = heapq.heappop(queue)
            clock.at(step.at)
            step.run()
            steps += 1
        clock.restore()
        activities = _activities(rng, clock, start, areas, users, servers + residents[:6])
        proposals = _suggestions(rng, clock, start, users, departments, residents)
    finally:
        clock.restore()
    overdue = _mark_overdue(utcnow())
    praises = _praise(rng, start, places, users, residents)
    # What the history told its people is long read: no message of it waits to be delivered.
    db.session.execute(update(Notification).where(Notification.id > first_notice)
                       .values(status=SKIPPED, read_at=utcnow()))
    db.session.flush()
    rollups.rebuild_all()
    total = db.session.scalar(select(db.func.count(Case.id)).where(Case.reporter_id.in_([r.id for r in residents])))
    return [f"近 {WEEKS} 周的历史：事件 {total} 件（超时 {overdue} 件），志愿活动 {activities} 场，"
            f"点赞 {praises} 条，群众建议 {proposals} 条，共 {steps} 步"]
