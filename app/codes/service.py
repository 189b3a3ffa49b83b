"""Verbs for codes: resolve a scene, scan, issue in bulk, disable, rotate, images and print sheets."""
from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import ADMIN_ROLES, GRID_WORKER
from app.areas.models import Area, Place
from app.codes import images
from app.codes.models import Code
from app.core.errors import Conflict, Invalid, NotFound
from app.core.ids import new_scene
from app.core.pagination import Page, paginate
from app.core.scoping import Actor, admin_role, require_scope, scope_filter
from app.core.time import utcnow
from app.core.workflow import record
from app.extensions import db

READ_ROLES = (*ADMIN_ROLES, GRID_WORKER)
MAX_BATCH = 200
MAX_SHEET = 120


# -- admin ----------------------------------------------------------------------------------

def _new_code(actor: Actor, place: Place, rotated_from: int | None = None) -> Code:
    code = Code(scene=new_scene("p"), place_id=place.id, place=place, area_path=place.area_path,
                active=True, rotated_from=rotated_from, created_by=actor.user_id)
    db.session.add(code)
    db.session.flush()
    return code


def issue_codes(actor: Actor, *, place_ids: list[int] | None = None, area_id: int | None = None) -> list[Code]:
    """One active code per place: places that already have one keep it, the others get a new one."""
    if not place_ids and area_id is None:
        raise Invalid("请选择要生成二维码的场所。", errors={"place_ids": ["必填"]})
    stmt = select(Place)
    if area_id is not None:
        area = db.session.get(Area, area_id)
        if area is None:
            raise NotFound("区域不存在。")
        require_scope(actor, area.path, ADMIN_ROLES)
        stmt = stmt.where(Place.area_path.startswith(area.path, autoescape=True), Place.active.is_(True))
    else:
        ids = list(dict.fromkeys(place_ids))
        if len(ids) > MAX_BATCH:
            raise Invalid(f"一次最多为 {MAX_BATCH} 个场所生成二维码。", errors={"place_ids": [f"最多 {MAX_BATCH} 个"]})
        stmt = stmt.where(Place.id.in_(ids))
    places = list(db.session.scalars(stmt.order_by(Place.id)).unique())
    if area_id is None:
        missing = sorted(set(place_ids) - {p.id for p in places})
        if missing:
            raise NotFound("场所不存在。", errors={"place_ids": missing})
    if len(places) > MAX_BATCH:
        raise Invalid(f"一次最多为 {MAX_BATCH} 个场所生成二维码，请选择更小的区域。")
    for place in places:
        require_scope(actor, place.area_path, ADMIN_ROLES)
        if not place.active:
            raise Invalid(f"场所“{place.name}”已停用，不能生成二维码。", errors={"place_ids": [place.id]})
    existing = {c.place_id: c for c in db.session.scalars(
        select(Code).where(Code.place_id.in_([p.id for p in places]), Code.active.is_(True))).unique()}
    codes = []
    for place in places:
        code = existing.get(place.id)
        if code is None:
            code = _new_code(actor, place)
            record("code", code.id, actor, admin_role(actor, place.area_path), "issue", None, "active")
        codes.append(code)
    return codes


def list_codes(actor: Actor, *, place_id: int | None = None, area_id: int | None = None,
               active: bool | None = None, limit: int | None = None, cursor: str | None = None) -> Page:
    stmt = select(Code).where(scope_filter(actor, Code.area_path, READ_ROLES))
    if place_id is not None:
        stmt = stmt.where(Code.place_id == place_id)
    if area_id is not None:
        area = db.session.get(Area, area_id)
        if area is None:
            raise NotFound("区域不存在。")
        stmt = stmt.where(Code.area_path.startswith(area.path, autoescape=True))
    if active is not None:
        stmt = stmt.where(Code.active.is_(active))
    return paginate(stmt, Code.id, limit=limit, cursor=cursor)


def get_code(actor: Actor, code_id: int, roles=READ_ROLES) -> Code:
    code = db.session.get(Code, code_id)
    if code is None:
        raise NotFound("二维码不存在。")
    require_scope(actor, code.area_path, roles)
    return code


def disable_code(actor: Actor, code_id: int) -> Code:
    code = get_code(actor, code_id, ADMIN_ROLES)
    if not code.active:
        raise Conflict("该二维码已停用。")
    code.active = False
    code.disabled_at = utcnow()
    record("code", code.id, actor, admin_role(actor, code.area_path), "disable", "active", "disabled")
    db.session.flush()
    return code


def rotate_code(actor: Actor, code_id: int) -> Code:
    """Replace a code (a sticker torn off or copied): the old scene stops working at once."""
    code = get_code(actor, code_id, ADMIN_ROLES)
    if not code.active:
        raise Conflict("已停用的二维码不能轮换，请为该场所重新生成二维码。")
    role = admin_role(actor, code.area_path)
    code.active = False
    code.disabled_at = utcnow()
    db.session.flush()
    fresh = _new_code(actor, code.place, rotated_from=code.id)
    record("code", code.id, actor, role, "rotate", "active", "disabled", data={"replaced_by": fresh.id})
    record("code", fresh.id, actor, role, "issue", None, "active", data={"rotated_from": code.id})
    return fresh


def code_image(actor: Actor, code_id: int, kind: str = images.WECHAT) -> images.CodeImage:
    code = get_code(actor, code_id)
    if not code.active:
        raise Conflict("该二维码已停用，不能再下载。")
    return images.code_image(code.scene, kind)


def code_sheet(actor: Actor, code_ids: list[int], kind: str = images.WECHAT) -> bytes:
    ids = list(dict.fromkeys(code_ids))
    if not ids:
        raise Invalid("请选择要打印的二维码。", errors={"ids": ["必填"]})
    if len(ids) > MAX_SHEET:
        raise Invalid(f"一次最多打印 {MAX_SHEET} 个二维码。", errors={"ids": [f"最多 {MAX_SHEET} 个"]})
    codes = {c.id: c for c in db.session.scalars(select(Code).where(Code.id.in_(ids))).unique()}
    missing = [i for i in ids if i not in codes]
    if missing:
        raise NotFound("二维码不存在。", errors={"ids": missing})
    for code in codes.values():
        require_scope(actor, code.area_path, READ_ROLES)
    inactive = [i for i in ids if not codes[i].active]
    if inactive:
        raise Conflict("所选二维码中有已停用的，不能打印。", errors={"ids": inactive})
    parent_ids = {codes[i].place.grid.parent_id for i in ids}
    communities = {a.id: a.name for a in db.session.scalars(select(Area).where(Area.id.in_(parent_ids)))}
    items = [images.SheetItem(image=images.code_image(codes[i].scene, kind),
                              community=communities.get(codes[i].place.grid.parent_id, ""),
                              grid=codes[i].place.grid.name, place=codes[i].place.name) for i in ids]
    return images.sheet_pdf(items)
