"""月度评议: the evaluation group scores households on the scheme's indicators (100-point scale, four tiers);
a different person publishes the result for a notice period (公示) in which households may object; objections
are answered; after the notice a different person than the maker finalises it, and each household's head is
paid once by the scheme's evaluated item, in the evaluated month."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from app.accounts.models import ADMIN_ROLES, GRID_WORKER
from app.areas.models import Place
from app.core import audit, crypto
from app.core.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from app.core.pagination import Page, paginate
from app.core.scoping import Actor
from app.core.time import utcnow
from app.extensions import db
from app.notifications.service import notify
from app.points import ledger
from app.points.models import (
    DISMISSED,
    EVAL_DRAFT,
    EVALUATED,
    FINAL,
    NOTICE,
    OPEN,
    UPHELD,
    Evaluation,
    EvaluationScore,
    Household,
    HouseholdMember,
    Objection,
    PointScheme,
)
from app.points.service import get_community, months_of, person_names, require_admin, tier_of, works_in

NOTICE_DAYS = 5
MAKER_ROLES = (*ADMIN_ROLES, GRID_WORKER)


def _month_start(period: str) -> date:
    year, month = (int(x) for x in period.split("-"))
    return date(year, month, 1)


def _score(scheme: PointScheme, raw: dict) -> tuple[dict, int]:
    scores = {}
    for indicator in scheme.indicators:
        value = raw.get(indicator["code"])
        if value is None or not 0 <= int(value) <= indicator["weight"]:
            raise Invalid(f"“{indicator['name']}”应在 0 到 {indicator['weight']} 分之间。",
                          errors={"scores": {indicator["code"]: [f"0 到 {indicator['weight']}"]}})
        scores[indicator["code"]] = int(value)
    return scores, sum(scores.values())


def create_evaluation(actor: Actor, *, community_id: int, period: str, scores: list[dict]) -> Evaluation:
    """The evaluation group (an admin or grid worker of the community) scores households for a past month."""
    community = get_community(community_id)
    if not actor.is_authenticated:
        raise Unauthorized()
    if not actor.covers(community.path, ADMIN_ROLES) and not works_in(actor, community.path):
        raise Forbidden("只有本社区的工作人员可以评议。")
    label, _months = months_of("month", period)
    scheme = ledger.scheme_in_effect(community.id, _month_start(label))
    if scheme is None or not scheme.indicators:
        raise Conflict("该月适用的积分方案没有设置月度评议指标。")
    if db.session.scalar(select(Evaluation.id).where(Evaluation.community_id == community.id,
                                                     Evaluation.period == label)):
        raise Conflict(f"{label} 的月度评议已经存在。")
    if not scores:
        raise Invalid("请至少为一户评分。", errors={"scores": ["至少一户"]})
    evaluation = Evaluation(community_id=community.id, area_path=community.path, scheme_id=scheme.id, period=label,
                            status=EVAL_DRAFT, made_by=actor.user_id)
    seen = set()
    for row in scores:
        household = db.session.get(Household, row.get("household_id"))
        if household is None or household.community_id != community.id or household.id in seen:
            raise Invalid("评分中有不属于本社区或重复的家庭户。", errors={"scores": ["家庭户有误"]})
        seen.add(household.id)
        values, total = _score(scheme, row.get("scores") or {})
        evaluation.scores.append(EvaluationScore(household_id=household.id, scores=values, total=total,
                                                 tier=tier_of(scheme, total), note=(row.get("note") or "")[:200]))
    db.session.add(evaluation)
    db.session.flush()
    audit.act("points.create_evaluation", evaluation_id=evaluation.id, period=label)
    return evaluation


def _load(evaluation_id: int, *, lock: bool = False) -> Evaluation:
    stmt = select(Evaluation).where(Evaluation.id == evaluation_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    evaluation = db.session.scalar(stmt)
    if evaluation is None:
        raise NotFound("月度评议不存在。")
    return evaluation


def _checker(actor: Actor, evaluation: Evaluation, what: str) -> None:
    require_admin(actor, evaluation.area_path)
    if actor.user_id == evaluation.made_by:
        raise Forbidden(f"评分人不能{what}自己的评议结果，请由另一位管理员审核。")


def _household_members(household_ids) -> list[int]:
    return list(db.session.scalars(select(HouseholdMember.user_id)
                                   .where(HouseholdMember.household_id.in_(list(household_ids)))))


def publish(actor: Actor, evaluation_id: int) -> Evaluation:
    """公示: a second person checks and publishes; residents may object for NOTICE_DAYS days."""
    evaluation = _load(evaluation_id, lock=True)
    _checker(actor, evaluation, "公示")
    if evaluation.status != EVAL_DRAFT:
        raise Conflict("该评议已公示。")
    now = utcnow()
    evaluation.status, evaluation.checked_by = NOTICE, actor.user_id
    evaluation.published_at, evaluation.notice_until = now, now + timedelta(days=NOTICE_DAYS)
    db.session.flush()
    notify(_household_members(s.household_id for s in evaluation.scores), "points.evaluation_published",
           title=f"{evaluation.period} 月度评议结果公示", body=f"公示 {NOTICE_DAYS} 天，如有异议请在公示期内提出。",
           page=f"pages/points/evaluation?id={evaluation.id}",
           data={"subject": f"{evaluation.period} 月度评议", "status": "公示中"}, subject=("evaluation", evaluation.id))
    audit.act("points.publish_evaluation", evaluation_id=evaluation.id)
    return evaluation


def object_to(actor: Actor, evaluation_id: int, *, reason: str) -> Objection:
    """A member of a scored household objects to its score during the notice period."""
    if not actor.is_authenticated:
        raise Unauthorized()
    evaluation = _load(evaluation_id)
    household = ledger.household_of(actor.user_id)
    score = next((s for s in evaluation.scores if household is not None and s.household_id == household.id), None)
    if evaluation.status != NOTICE or score is None:
        raise NotFound("没有可提出异议的评议结果。")
    if utcnow() > evaluation.notice_until:
        raise Conflict("公示期已结束，不能再提出异议。")
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("请写明异议理由。", errors={"reason": ["必填"]})
    objection = Objection(evaluation_id=evaluation.id, score_id=score.id, score=score, user_id=actor.user_id,
                          reason=reason[:1000], status=OPEN)
    db.session.add(objection)
    db.session.flush()
    notify([evaluation.made_by], "points.objection_received", title=f"{evaluation.period} 月度评议收到异议",
           body=reason[:100], page=f"pages/points/evaluation?id={evaluation.id}",
           data={"subject": f"{evaluation.period} 月度评议", "status": "待答复"}, subject=("objection", objection.id))
    return objection


def answer_objection(actor: Actor, objection_id: int, *, uphold: bool, answer: str,
                     scores: dict | None = None) -> Objection:
    """The community answers; an upheld objection re-scores the household (the notice period goes on)."""
    objection = db.session.scalar(select(Objection).where(Objection.id == objection_id).with_for_update()
                                  .execution_options(populate_existing=True))
    if objection is None:
        raise NotFound("异议不存在。")
    evaluation = _load(objection.evaluation_id)
    require_admin(actor, evaluation.area_path)
    if objection.status != OPEN:
        raise Conflict("该异议已答复。")
    if evaluation.status != NOTICE:
        raise Conflict("该评议已不在公示期。")
    answer = (answer or "").strip()
    if not answer:
        raise Invalid("请填写答复。", errors={"answer": ["必填"]})
    if uphold:
        scheme = db.session.get(PointScheme, evaluation.scheme_id)
        values, total = _score(scheme, scores or {})
        objection.score.scores, objection.score.total, objection.score.tier = values, total, tier_of(scheme, total)
    objection.status = UPHELD if uphold else DISMISSED
    objection.answer, objection.answered_by, objection.answered_at = answer[:500], actor.user_id, utcnow()
    db.session.flush()
    notify([objection.user_id], "points.objection_answered", title="您对月度评议的异议已答复",
           body=answer[:100], page=f"pages/points/evaluation?id={evaluation.id}",
           data={"subject": f"{evaluation.period} 月度评议", "status": "已采纳" if uphold else "未采纳", "note": answer},
           subject=("objection", objection.id))
    audit.act("points.answer_objection", objection_id=objection.id, uphold=uphold)
    return objection


def finalise(actor: Actor, evaluation_id: int) -> Evaluation:
    """After the notice period, with every objection answered, a person other than the maker makes it final;
    each household's head earns the evaluated item's points in proportion to the total, once."""
    evaluation = _load(evaluation_id, lock=True)
    _checker(actor, evaluation, "确认")
    if evaluation.status != NOTICE:
        raise Conflict("只有公示中的评议可以确认。" if evaluation.status == EVAL_DRAFT else "该评议已确认。")
    if utcnow() < evaluation.notice_until:
        raise Conflict(f"公示期未满 {NOTICE_DAYS} 天，不能确认。")
    if db.session.scalar(select(Objection.id).where(Objection.evaluation_id == evaluation.id,
                                                    Objection.status == OPEN).limit(1)):
        raise Conflict("还有未答复的异议，请先答复。")
    evaluation.status, evaluation.finalised_at = FINAL, utcnow()
    scheme = db.session.get(PointScheme, evaluation.scheme_id)
    item = next((i for i in scheme.items if i.kind == EVALUATED), None)
    heads = dict(db.session.execute(select(Household.id, Household.head_id).where(
        Household.id.in_([s.household_id for s in evaluation.scores]))).all())
    at = datetime.combine(_month_start(evaluation.period), datetime.min.time()).replace(tzinfo=utcnow().tzinfo)
    for score in evaluation.scores if item is not None else ():
        ledger.settle("evaluation_score", score.id, user_id=heads[score.household_id],
                      area_path=evaluation.area_path, occurred_at=at + timedelta(days=1), item=item,
                      quantity=score.total / 100, approved_by=actor.user_id,
                      note=f"{evaluation.period} 月度评议 {score.total} 分（{score.tier}）")
    db.session.flush()
    audit.act("points.finalise_evaluation", evaluation_id=evaluation.id)
    return evaluation


# -- reading ----------------------------------------------------------------------------------------

def list_evaluations(actor: Actor, *, community_id: int, limit: int | None = None,
                     cursor: str | None = None) -> Page:
    """Published and final results for everyone; drafts too for the community's staff."""
    community = get_community(community_id)
    stmt = select(Evaluation).where(Evaluation.community_id == community.id)
    if not (actor.covers(community.path, ADMIN_ROLES) or works_in(actor, community.path)):
        stmt = stmt.where(Evaluation.status != EVAL_DRAFT)
    return paginate(stmt, Evaluation.id, limit=limit, cursor=cursor)


def view(actor: Actor, evaluation_id: int, *, staff_only: bool = False) -> dict:
    """A result as the public board shows it (households masked), or in full for the community's staff
    (`staff_only`: the console's page, for them alone)."""
    evaluation = _load(evaluation_id)
    staff = actor.covers(evaluation.area_path, ADMIN_ROLES) or works_in(actor, evaluation.area_path)
    if (evaluation.status == EVAL_DRAFT or staff_only) and not staff:
        raise NotFound("月度评议不存在。")
    scheme = db.session.get(PointScheme, evaluation.scheme_id)
    households = {h.id: h for h in db.session.scalars(select(Household).where(
        Household.id.in_([s.household_id for s in evaluation.scores])))}
    places = dict(db.session.execute(select(Place.id, Place.name).where(
        Place.id.in_({h.place_id for h in households.values()}))).all())
    heads = person_names(h.head_id for h in households.values())
    mine = ledger.household_of(actor.user_id) if actor.is_authenticated else None
    rows = []
    for score in sorted(evaluation.scores, key=lambda s: (-s.total, s.household_id)):
        h = households[score.household_id]
        name = heads.get(h.head_id, "")
        rows.append({"id": score.id, "household_id": h.id, "total": score.total, "tier": score.tier,
                     "scores": score.scores, "note": score.note, "mine": mine is not None and mine.id == h.id,
                     "household": f"{places.get(h.place_id, '')}{h.room}（户主 {name}）" if staff
                     else f"{crypto.mask_name(name)}户"})
    objections = []
    if staff:
        objections = list(db.session.scalars(select(Objection).where(Objection.evaluation_id == evaluation.id)
                                              .order_by(Objection.id)))
    elif actor.is_authenticated:
        objections = list(db.session.scalars(select(Objection).where(
            Objection.evaluation_id == evaluation.id, Objection.user_id == actor.user_id).order_by(Objection.id)))
    return {"id": evaluation.id, "community_id": evaluation.community_id, "period": evaluation.period,
            "status": evaluation.status, "notice_until": evaluation.notice_until,
            "notice_over": evaluation.notice_until is not None and evaluation.notice_until <= utcnow(),
            "published_at": evaluation.published_at, "finalised_at": evaluation.finalised_at,
            "indicators": scheme.indicators, "tiers": scheme.tiers, "scores": rows, "objections": objections,
            "made_by_me": actor.user_id == evaluation.made_by}

