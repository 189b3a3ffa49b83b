"""Console: the map of a community (boundaries and located cases, drawn as SVG without tiles), boundary uploads,
Open311 API keys and the 12345 hotline platforms, and handing a case over to the hotline."""
from __future__ import annotations

from flask import redirect, render_template, request, url_for

from app.accounts.models import ADMIN_ROLES
from app.areas.models import COMMUNITY, GRID
from app.areas.service import areas_in_scope
from app.cases import maps
from app.cases.states import AREA_ROLES
from app.core.errors import Invalid
from app.geo import service as geo
from app.hotline import service as hotline
from app.open311 import service as open311
from app.portal import web
from app.portal.auth import staff_actor
from app.portal.console import NAV, bp, roles_required

NAV.append({"endpoint": "console.area_map", "label": "地图边界", "roles": AREA_ROLES})
NAV.append({"endpoint": "console.integrations", "label": "热线对接", "roles": ADMIN_ROLES})


@bp.get("/map")
@roles_required(*AREA_ROLES)
def area_map():
    actor = staff_actor()
    areas = areas_in_scope(actor, AREA_ROLES, levels=(COMMUNITY, GRID))
    area_id = web.query_int("area_id") or next((a.id for a in areas if a.level == COMMUNITY), None)
    drawing = maps.area_map(actor, area_id) if area_id else None
    return render_template("console/area_map.html", areas=areas, area_id=area_id, drawing=drawing,
                           drawn=geo.drawn([a.id for a in areas]), can_upload=actor.has_role(*ADMIN_ROLES))


@bp.post("/map/boundary")
@roles_required(*ADMIN_ROLES)
def boundary_upload():
    area_id = web.number("area_id") or 0

    def upload():
        upload = request.files.get("geojson")
        if upload is None or not upload.filename:
            raise Invalid("请选择边界文件。", errors={"geojson": ["必选"]})
        raw = upload.read(geo.MAX_GEOJSON_BYTES + 1)
        return geo.set_boundary(staff_actor(), area_id, geo.read_geojson(raw))

    web.attempt(upload, success="边界已保存。")
    return redirect(url_for("console.area_map", area_id=area_id or None))


@bp.get("/integrations")
@roles_required(*ADMIN_ROLES)
def integrations():
    actor = staff_actor()
    return _integrations_page(actor, new_key=None)


def _integrations_page(actor, new_key: str | None):
    areas = areas_in_scope(actor, ADMIN_ROLES)
    return render_template("console/integrations.html", clients=open311.list_clients(actor),
                           platforms=hotline.list_platforms(actor), new_key=new_key, areas=areas,
                           area_names={a.id: a.name for a in areas})


@bp.post("/integrations/open311")
@roles_required(*ADMIN_ROLES)
def open311_issue():
    actor = staff_actor()
    ok, issued = web.attempt(lambda: open311.issue_client(actor, name=web.text("name", 64),
                                                          area_id=web.number("area_id") or 0),
                             success="已签发密钥：请立即复制，它只显示这一次。")
    if not ok:
        return redirect(url_for("console.integrations"))
    return _integrations_page(actor, new_key=issued[1])


@bp.post("/integrations/open311/<int:client_id>/revoke")
@roles_required(*ADMIN_ROLES)
def open311_revoke(client_id):
    web.attempt(open311.revoke_client, staff_actor(), client_id, success="密钥已停用。")
    return redirect(url_for("console.integrations"))


@bp.post("/integrations/hotline")
@roles_required(*ADMIN_ROLES)
def hotline_configure():
    web.attempt(lambda: hotline.configure_platform(
        staff_actor(), area_id=web.number("area_id") or 0, name=web.text("name", 64),
        endpoint=web.text("endpoint", 300), secret=request.form.get("secret") or ""), success="已添加对接平台。")
    return redirect(url_for("console.integrations"))


@bp.post("/cases/<int:case_id>/hotline")
@roles_required(*ADMIN_ROLES)
def case_handover(case_id):
    web.attempt(lambda: hotline.hand_over(staff_actor(), case_id, web.number("platform_id") or 0,
                                          web.text("note", 500, multiline=True)),
                success="已移交热线，发送结果见办理时间线。")
    return redirect(url_for("console.case_detail", case_id=case_id))
