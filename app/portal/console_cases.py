"""Console: the case inbox (by status, with filters and search) and case detail with its allowed actions."""
from __future__ import annotations

from flask import redirect, render_template, request, url_for

from app.areas.models import COMMUNITY, GRID
from app.areas.service import areas_in_scope
from app.cases import maps, presenter
from app.cases import service as case_service
from app.cases.categories import list_categories, replies_for_case
from app.cases.desk import dispatch_options
from app.cases.exports import HEADER as CASE_HEADER
from app.cases.exports import case_rows
from app.cases.progress import STAFF_NOTE_DEFAULTS
from app.cases.states import ACTION_LABELS, AREA_ROLES
from app.core import audit
from app.core.errors import Invalid
from app.core.exports import attachment
from app.core.scoping import admin_role
from app.hotline.service import platforms_for
from app.portal import web
from app.portal.auth import staff_actor
from app.portal.console import CASE_ROLES, bp, roles_required
from app.stats import exports as stats_exports

STATUS_TABS = [("open", "未办结"), ("submitted", "待受理"), ("accepted", "已受理"), ("dispatched", "处理中"),
               ("handled", "待核查"), ("closed", "已结束")]
# Which fields each action's form sends to the service (the service checks them all).
ACTION_FIELDS = {
    "accept": ("note",), "reject": ("reason",), "withdraw": ("note",), "escalate": ("note",),
    "handle": ("note",), "reopen": ("reason",), "dispatch": ("note",), "verify": ("note", "reason"),
}


@bp.get("/cases")
@roles_required(*CASE_ROLES)
def cases():
    actor = staff_actor()
    filters = _filters()
    page = case_service.list_cases(actor, **filters, **web.page_args())
    page.items = [presenter.summary(c, actor) for c in page.items]
    return render_template("console/cases.html", page=page, tabs=STATUS_TABS, status=filters["status"],
                           categories=list_categories(actor, limit=100).items, args=request.args,
                           areas=_areas(actor))


def _filters() -> dict:
    """The list's filters from the query string; the export takes the same."""
    status = request.args.get("status") or ("" if request.args.get("q") else "open")
    return {
        "status": status if status in dict(STATUS_TABS) else None,
        "category_id": web.query_int("category_id"),
        "overdue": True if request.args.get("overdue") == "1" else None,
        "assigned_to_me": request.args.get("mine") == "1",
        "escalated": True if request.args.get("escalated") == "1" else None,
        "q": (request.args.get("q") or "").strip() or None,
        "area_id": web.query_int("area_id"),
    }


@bp.get("/cases/export.<fmt>")
@roles_required(*CASE_ROLES)
def cases_export(fmt: str):
    """The list as it is filtered, as a spreadsheet (as the API's export: no reporter identity, at most 20,000 rows)."""
    if fmt not in ("csv", "xlsx"):
        raise Invalid("只支持 CSV 或 XLSX。")
    filters = _filters()
    rows = case_rows(staff_actor(), **filters)
    data, mimetype = stats_exports.render(fmt, f"事件列表（{len(rows)} 件）", rows, header=CASE_HEADER, sheet="事件")
    audit.act("cases.export", format=fmt, rows=len(rows), **{k: v for k, v in filters.items() if v})
    return attachment(data, mimetype, f"事件列表.{fmt}")


def _areas(actor):
    """Communities and grids the actor covers, for the area filter (departments see theirs by dispatch)."""
    return areas_in_scope(actor, AREA_ROLES, levels=(COMMUNITY, GRID))


@bp.get("/cases/<int:case_id>")
@roles_required(*CASE_ROLES)
def case_detail(case_id):
    actor = staff_actor()
    case = case_service.get_case(actor, case_id)
    detail = presenter.detail(case, actor)
    options = dispatch_options(actor, case) if "dispatch" in detail["allowed_actions"] else None
    return render_template("console/case_detail.html", case=detail, options=options, labels=ACTION_LABELS,
                           replies=replies_for_case(case), note_defaults=STAFF_NOTE_DEFAULTS,
                           case_map=maps.case_map(case),
                           platforms=platforms_for(case) if admin_role(actor, case.area_path) else [])


@bp.post("/cases/<int:case_id>/actions")
@roles_required(*CASE_ROLES)
def case_action(case_id):
    action = request.form.get("action", "")

    def act():
        if action not in ACTION_FIELDS:
            raise Invalid("未知的操作。", errors={"action": ["无效"]})
        actor = staff_actor()
        args = {name: web.text(name, multiline=True) for name in ACTION_FIELDS[action]}
        if action == "dispatch":
            kind, _, target = (request.form.get("target") or "").partition(":")
            if not target.isdigit() or kind not in ("worker", "department"):
                raise Invalid("请选择派遣给哪位网格员或哪个部门。", errors={"target": ["必选"]})
            args["assignee_id" if kind == "worker" else "department_id"] = int(target)
        if action == "verify":
            args["passed"] = {"1": True, "0": False}.get(request.form.get("passed", ""))
        if action == "handle":
            args["photo_ids"] = web.save_photos(actor)
        if action in STAFF_NOTE_DEFAULTS:
            # 对居民公开 / 仅内部可见, chosen beside the note; without it the step's default.
            args["public"] = {"1": True, "0": False}.get(request.form.get("public", ""))
        return case_service.transition(actor, case_id, action, **args)

    web.attempt(act, success=f"已{ACTION_LABELS.get(action, '办理')}。")
    return redirect(url_for("console.case_detail", case_id=case_id))
