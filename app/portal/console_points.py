"""Console: 积分制 — a community's scheme and its versions, applications to decide, the points supermarket
(goods, stock, pick-up by code) and the rankings with full names."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from app.accounts.models import ADMIN_ROLES, GRID_WORKER
from app.core import inputs
from app.core.errors import Invalid, NotFound
from app.core.exports import XLSX_MIMETYPE, attachment
from app.points import cashout as cashouts
from app.points import evaluation as evaluations
from app.points import ledger, shop
from app.points import service as points
from app.points.models import (
    APPLICATION_LABELS,
    APPROVER_ROLES,
    EVALUATION_LABELS,
    ITEM_KINDS,
    OBJECTION_LABELS,
    REDEMPTION_LABELS,
    SCHEME_LABELS,
    SOURCES,
)
from app.portal import web
from app.portal.auth import staff_actor
from app.portal.console import bp, roles_required

POINTS_ROLES = (*ADMIN_ROLES, GRID_WORKER)
ITEM_FIELDS = ("code", "name", "points", "kind", "source", "monthly_cap", "approver_role")


def _community_choice():
    """The communities in the actor's scope and the one picked (?community_id=, else the first)."""
    communities = points.communities_for(staff_actor())
    if not communities:
        raise NotFound("您的管辖范围内没有社区。")
    wanted = web.query_int("community_id")
    chosen = next((c for c in communities if c.id == wanted), communities[0])
    return communities, chosen


@bp.get("/points")
@roles_required(*ADMIN_ROLES)
def points_schemes():
    communities, community = _community_choice()
    actor = staff_actor()
    versions = points.scheme_versions(actor, community.id)
    current = ledger.scheme_in_effect(community.id, points.local_today())
    return render_template("console/points_schemes.html", communities=communities, community=community,
                           versions=versions, current=current, base=current or (versions[0] if versions else None),
                           kinds=ITEM_KINDS, sources=SOURCES, approvers=APPROVER_ROLES, labels=SCHEME_LABELS)


def _items_from_form() -> list[dict]:
    """The item rows of the scheme form: one value per row in each column; blank rows are skipped."""
    columns = {name: request.form.getlist(name) for name in ITEM_FIELDS}
    rows = []
    for n in range(len(columns["code"])):
        row = {name: (values[n] if n < len(values) else "").strip() for name, values in columns.items()}
        if not row["code"] and not row["name"]:
            continue
        for name in ("code", "name"):
            problem = inputs.text_problem(row[name])
            if problem:
                raise Invalid(f"第 {n + 1} 行{problem}", errors={name: [problem]})
        try:
            row["points"] = int(row["points"])
            row["monthly_cap"] = int(row["monthly_cap"]) if row["monthly_cap"] else None
        except ValueError as exc:
            raise Invalid(f"第 {n + 1} 行的分值或上限应为整数。", errors={"points": ["应为整数"]}) from exc
        row["source"] = row["source"] or None
        rows.append(row)
    return rows


@bp.post("/points/schemes")
@roles_required(*ADMIN_ROLES)
def points_scheme_create():
    community_id = web.number("community_id")
    base = ledger.scheme_in_effect(community_id or 0, points.local_today())
    web.attempt(lambda: points.create_scheme(
        staff_actor(), community_id=community_id or 0, title=web.text("title", 100), items=_items_from_form(),
        # The monthly indicators and tiers carry over from the scheme in effect; the console edits items.
        indicators=base.indicators if base else None, tiers=base.tiers if base else None,
        dividend_percent=web.number("dividend_percent") if web.number("dividend_percent") is not None else 20),
                success="已保存为草稿，发布后从下月1日起生效。")
    return redirect(url_for("console.points_schemes", community_id=community_id))


@bp.post("/points/schemes/<int:scheme_id>/publish")
@roles_required(*ADMIN_ROLES)
def points_scheme_publish(scheme_id):
    ok, scheme = web.attempt(points.publish_scheme, staff_actor(), scheme_id)
    if ok:
        flash(f"已发布，{scheme.effective_from.strftime('%Y年%m月%d日')}起生效。", "success")
    return redirect(url_for("console.points_schemes", community_id=scheme.community_id if ok else None))


@bp.get("/points/applications")
@roles_required(*POINTS_ROLES)
def points_applications():
    status = request.args.get("status") or "pending"
    status = status if status in APPLICATION_LABELS else "pending"
    page = points.list_applications(staff_actor(), status=status, **web.page_args())
    names = points.person_names({a.user_id for a in page.items})
    return render_template("console/points_applications.html", page=page, names=names, status=status,
                           labels=APPLICATION_LABELS)


@bp.post("/points/applications/<int:application_id>/decision")
@roles_required(*POINTS_ROLES)
def points_application_decide(application_id):
    approve = request.form.get("approve") == "1"
    web.attempt(lambda: points.decide_application(staff_actor(), application_id, approve=approve,
                                                  reason=web.text("reason", 200)),
                success="已通过，积分已记入。" if approve else "已退回申请。")
    return redirect(url_for("console.points_applications"))


@bp.get("/points/shop")
@roles_required(*POINTS_ROLES)
def points_shop():
    communities, community = _community_choice()
    actor = staff_actor()
    items = shop.list_items(community_id=community.id, limit=100)
    reserved = shop.staff_redemptions(actor, status="reserved", **web.page_args())
    names = points.person_names({r.user_id for r in reserved.items})
    return render_template("console/points_shop.html", communities=communities, community=community, items=items,
                           reserved=reserved, names=names, labels=REDEMPTION_LABELS,
                           is_admin=actor.covers(community.path, ADMIN_ROLES))


@bp.post("/points/shop/items")
@roles_required(*ADMIN_ROLES)
def points_shop_item_create():
    community_id = web.number("community_id")
    web.attempt(lambda: shop.create_item(staff_actor(), community_id=community_id or 0, name=web.text("name", 64),
                                         description=web.text("description", 200), price=web.number("price") or 0,
                                         stock=web.number("stock") or 0), success="已上架。")
    return redirect(url_for("console.points_shop", community_id=community_id))


@bp.post("/points/shop/items/<int:shop_item_id>/restock")
@roles_required(*ADMIN_ROLES)
def points_shop_restock(shop_item_id):
    ok, item = web.attempt(lambda: shop.restock(staff_actor(), shop_item_id, add=web.number("add") or 0),
                           success="已补货。")
    return redirect(url_for("console.points_shop", community_id=item.community_id if ok else None))


@bp.post("/points/pickup")
@roles_required(*POINTS_ROLES)
def points_pickup():
    ok, redemption = web.attempt(lambda: shop.confirm_pickup(staff_actor(), code=web.text("code", 12)))
    if ok:
        flash(f"已核销：{redemption.shop_item.name}（领取码 {redemption.code}）。", "success")
    return redirect(url_for("console.points_shop", community_id=redemption.shop_item.community_id if ok else None))


@bp.get("/points/rankings")
@roles_required(*ADMIN_ROLES)
def points_rankings():
    communities, community = _community_choice()
    period = request.args.get("period") if request.args.get("period") in points.PERIOD_KINDS else "month"
    by = "household" if request.args.get("by") == "household" else "person"
    at = (request.args.get("at") or "").strip()[:7] or None
    board = points.ranking(staff_actor(), community_id=community.id, period=period, at=at, by=by, full_names=True,
                           limit=50, cursor=request.args.get("cursor") or None)
    return render_template("console/points_rankings.html", communities=communities, community=community,
                           board=board, period=period, by=by, at=at or "", periods=points.PERIOD_KINDS)


# -- monthly evaluation (月度评议) ---------------------------------------------------------------------

@bp.get("/points/evaluations")
@roles_required(*POINTS_ROLES)
def points_evaluations():
    communities, community = _community_choice()
    actor = staff_actor()
    page = evaluations.list_evaluations(actor, community_id=community.id, **web.page_args())
    scheme = ledger.scheme_in_effect(community.id, points.local_today())
    return render_template("console/points_evaluations.html", communities=communities, community=community,
                           page=page, labels=EVALUATION_LABELS, scheme=scheme,
                           households=points.households_in(actor, community.id),
                           period=points.local_today().strftime("%Y-%m"))


@bp.post("/points/evaluations")
@roles_required(*POINTS_ROLES)
def points_evaluation_create():
    community_id = web.number("community_id") or 0

    def create():
        household_ids = [int(x) for x in request.form.getlist("household_id") if x.isdigit()]
        scores = []
        for hid in household_ids:
            marks = {key.rpartition("-")[2]: value for key, value in request.form.items()
                     if key.startswith(f"s-{hid}-") and value.strip()}
            if not marks:
                continue  # a household left blank is not scored this month
            try:
                scores.append({"household_id": hid, "scores": {k: int(v) for k, v in marks.items()}})
            except ValueError as exc:
                raise Invalid("得分应为整数。", errors={"scores": ["应为整数"]}) from exc
        return evaluations.create_evaluation(staff_actor(), community_id=community_id,
                                             period=web.text("period", 7), scores=scores)

    ok, made = web.attempt(create, success="评分已保存，请由另一位管理员审核后公示。")
    if ok:
        return redirect(url_for("console.points_evaluation_detail", evaluation_id=made.id))
    return redirect(url_for("console.points_evaluations", community_id=community_id))


@bp.get("/points/evaluations/<int:evaluation_id>")
@roles_required(*POINTS_ROLES)
def points_evaluation_detail(evaluation_id):
    result = evaluations.view(staff_actor(), evaluation_id, staff_only=True)
    return render_template("console/points_evaluation_detail.html", e=result, labels=EVALUATION_LABELS,
                           objection_labels=OBJECTION_LABELS, names=points.person_names(
                               {o.user_id for o in result["objections"]}))


@bp.post("/points/evaluations/<int:evaluation_id>/<any(publish, finalise):step>")
@roles_required(*ADMIN_ROLES)
def points_evaluation_action(evaluation_id, step):
    verb = evaluations.publish if step == "publish" else evaluations.finalise
    web.attempt(verb, staff_actor(), evaluation_id,
                success="已公示，公示期 5 天。" if step == "publish" else "已确认，各户积分已记入。")
    return redirect(url_for("console.points_evaluation_detail", evaluation_id=evaluation_id))


@bp.post("/points/objections/<int:objection_id>/answer")
@roles_required(*ADMIN_ROLES)
def points_objection_answer(objection_id):
    uphold = request.form.get("uphold") == "1"

    def answer():
        marks = {key.removeprefix("s-"): value for key, value in request.form.items()
                 if key.startswith("s-") and value.strip()}
        try:
            scores = {k: int(v) for k, v in marks.items()} if uphold else None
        except ValueError as exc:
            raise Invalid("得分应为整数。", errors={"scores": ["应为整数"]}) from exc
        return evaluations.answer_objection(staff_actor(), objection_id, uphold=uphold,
                                            answer=web.text("answer", 500), scores=scores)

    ok, objection = web.attempt(answer, success="已答复。")
    return redirect(url_for("console.points_evaluation_detail", evaluation_id=objection.evaluation_id) if ok
                    else url_for("console.points_evaluations"))


# -- the yearly cash-out (年兑现) ---------------------------------------------------------------------

@bp.get("/points/cashouts")
@roles_required(*ADMIN_ROLES)
def points_cashouts():
    communities, community = _community_choice()
    actor = staff_actor()
    page = cashouts.list_cashouts(community_id=community.id, **web.page_args())
    shown = web.query_int("id") or (page.items[0].id if page.items else None)
    result = cashouts.view(actor, shown) if shown else None
    if result is not None and result["community_id"] != community.id:
        raise NotFound("积分兑现记录不存在。")
    return render_template("console/points_cashouts.html", communities=communities, community=community,
                           page=page, result=result, year=points.local_today().year - 1)


@bp.post("/points/cashouts")
@roles_required(*ADMIN_ROLES)
def points_cashout_compute():
    community_id = web.number("community_id") or 0
    ok, made = web.attempt(lambda: cashouts.compute(staff_actor(), community_id=community_id,
                                                    year=web.number("year") or 0, income=web.text("income", 20)),
                           success="已计算，公示 7 天后按发放表发放。")
    return redirect(url_for("console.points_cashouts", community_id=community_id, id=made.id if ok else None))


@bp.get("/points/cashouts/<int:cashout_id>.xlsx")
@roles_required(*ADMIN_ROLES)
def points_cashout_export(cashout_id):
    data, filename = cashouts.to_xlsx(staff_actor(), cashout_id)
    return attachment(data, XLSX_MIMETYPE, filename)
