"""Console setup pages: QR codes (issue, disable, rotate, print the sheet), categories with their time
limits and canned replies, and the users and roles within an admin's scope."""
from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for

from app.accounts import staffing
from app.accounts.models import ADMIN_ROLES, ROLE_LABELS, STREET_ADMIN, SYSTEM_ADMIN
from app.areas.service import areas_in_scope
from app.cases import categories as category_service
from app.codes import images
from app.codes import service as code_service
from app.core.errors import Invalid
from app.core.exports import PDF_MIMETYPE, attachment
from app.portal import web
from app.portal.auth import staff_actor
from app.portal.console import CODE_ROLES, bp, roles_required

# -- codes --------------------------------------------------------------------------------------


def _scoped_areas(actor, roles=ADMIN_ROLES):
    return areas_in_scope(actor, roles)


@bp.get("/codes")
@roles_required(*CODE_ROLES)
def codes():
    actor = staff_actor()
    area_id = web.query_int("area_id")
    active = {"1": True, "0": False}.get(request.args.get("active", "1"))
    page = code_service.list_codes(actor, area_id=area_id, active=active, **web.page_args())
    return render_template("console/codes.html", page=page, areas=_scoped_areas(actor, CODE_ROLES),
                           area_id=area_id, active=request.args.get("active", "1"),
                           can_issue=actor.has_role(*ADMIN_ROLES))


@bp.post("/codes/issue")
@roles_required(*ADMIN_ROLES)
def codes_issue():
    ok, issued = web.attempt(lambda: code_service.issue_codes(staff_actor(), area_id=web.number("area_id")))
    if ok:
        flash(f"已为 {len(issued)} 个场所准备好二维码（已有有效二维码的场所沿用原码）。", "success")
    return redirect(url_for("console.codes", area_id=request.form.get("area_id") or None))


@bp.post("/codes/<int:code_id>/<any(disable, rotate):action>")
@roles_required(*ADMIN_ROLES)
def code_action(code_id, action):
    verb = code_service.disable_code if action == "disable" else code_service.rotate_code
    web.attempt(verb, staff_actor(), code_id,
                success="二维码已停用。" if action == "disable" else "已换发新二维码，旧码立即失效。")
    return redirect(url_for("console.codes"))


@bp.get("/codes/<int:code_id>/image")
@roles_required(*CODE_ROLES)
def code_image(code_id):
    kind = request.args.get("kind") if request.args.get("kind") in (images.WECHAT, images.QRCODE) else images.QRCODE
    image = code_service.code_image(staff_actor(), code_id, kind)
    return Response(image.data, mimetype=image.mimetype)


@bp.post("/codes/sheet")
@roles_required(*CODE_ROLES)
def codes_sheet():
    ids = [int(i) for i in request.form.getlist("ids") if i.isdigit()]
    kind = request.form.get("kind") if request.form.get("kind") in (images.WECHAT, images.QRCODE) else images.QRCODE
    ok, pdf = web.attempt(code_service.code_sheet, staff_actor(), ids, kind)
    if not ok:
        return redirect(url_for("console.codes"))
    return attachment(pdf, PDF_MIMETYPE, "codes-sheet.pdf", inline=True)


# -- categories ---------------------------------------------------------------------------------

@bp.route("/categories", methods=["GET", "POST"])
@roles_required(*ADMIN_ROLES)
def categories():
    actor = staff_actor()
    if request.method == "POST":
        web.attempt(lambda: category_service.create_category(
            actor, name=_name(), accept_hours=_hours("accept_hours"), handle_hours=_hours("handle_hours"),
            working_days=request.form.get("working_days") == "1"), success="已新增问题类别。")
        return redirect(url_for("console.categories"))
    page = category_service.list_categories(actor, include_inactive=True, **web.page_args())
    replies = {c.id: category_service.visible_replies(actor, c.canned_replies) for c in page.items}
    deletable = {r.id for shown in replies.values() for r in shown if actor.covers(r.area_path, ADMIN_ROLES)}
    return render_template("console/categories.html", page=page, replies=replies, deletable=deletable,
                           can_edit=actor.has_role(SYSTEM_ADMIN, STREET_ADMIN))


def _name() -> str:
    name = web.text("name", 32)
    if not name:
        raise Invalid("请填写类别名称。", errors={"name": ["必填"]})
    return name


def _hours(field: str) -> int:
    value = web.number(field)
    if value is None:
        raise Invalid("请填写时限（小时）。", errors={field: ["必填"]})
    return value


@bp.post("/categories/<int:category_id>")
@roles_required(*ADMIN_ROLES)
def category_update(category_id):
    web.attempt(lambda: category_service.update_category(
        staff_actor(), category_id, name=web.text("name", 32) or None, accept_hours=web.number("accept_hours"),
        handle_hours=web.number("handle_hours"), working_days=request.form.get("working_days") == "1",
        active=request.form.get("active") == "1"), success="类别已保存。")
    return redirect(url_for("console.categories"))


@bp.post("/categories/<int:category_id>/replies")
@roles_required(*ADMIN_ROLES)
def reply_add(category_id):
    def add():
        title, body = web.text("title", 32), web.text("body", 500, multiline=True)
        if not title or not body:
            raise Invalid("请填写回复模板的标题和内容。", errors={"title": ["必填"], "body": ["必填"]})
        return category_service.add_canned_reply(staff_actor(), category_id, title=title, body=body)

    web.attempt(add, success="已添加回复模板。")
    return redirect(url_for("console.categories"))


@bp.post("/replies/<int:reply_id>/delete")
@roles_required(*ADMIN_ROLES)
def reply_delete(reply_id):
    web.attempt(category_service.delete_canned_reply, staff_actor(), reply_id, success="已删除回复模板。")
    return redirect(url_for("console.categories"))


# -- users and roles ----------------------------------------------------------------------------

@bp.route("/users", methods=["GET", "POST"])
@roles_required(*ADMIN_ROLES)
def users():
    actor = staff_actor()
    if request.method == "POST":
        ok, _ = web.attempt(lambda: staffing.create_staff(
            actor, username=web.text("username", 64), password=request.form.get("password", ""),
            display_name=web.text("display_name", 64), role=request.form.get("role", ""),
            area_id=web.number("area_id"), department_id=web.number("department_id"),
            phone=web.text("phone", 20) or None), success="已创建账号。")
        if ok:
            return redirect(url_for("console.users"))
    page = staffing.list_staff(actor, **web.page_args())
    return render_template("console/users.html", page=page, roles=staffing.grantable_roles(actor),
                           grant_places=staffing.grant_places(page.items), phones=staffing.masked_phones(page.items),
                           role_labels=ROLE_LABELS, areas=staffing.areas_for(actor),
                           departments=staffing.departments_for(actor), form=request.form)


@bp.post("/users/<int:user_id>/grants")
@roles_required(*ADMIN_ROLES)
def user_grant(user_id):
    web.attempt(lambda: staffing.grant(staff_actor(), user_id, role=request.form.get("role", ""),
                                       area_id=web.number("area_id"), department_id=web.number("department_id")),
                success="已授予角色。")
    return redirect(url_for("console.users"))


@bp.post("/grants/<int:grant_id>/revoke")
@roles_required(*ADMIN_ROLES)
def grant_revoke(grant_id):
    web.attempt(staffing.revoke, staff_actor(), grant_id, success="已撤销角色。")
    return redirect(url_for("console.users"))
