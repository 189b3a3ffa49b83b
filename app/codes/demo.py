"""Demo data: an active code on every demo place."""
from __future__ import annotations

from sqlalchemy import select

from app.codes.models import Code
from app.core.ids import new_scene
from app.extensions import db


def seed_demo(*, areas, places, users, departments) -> list[str]:
    have = set(db.session.scalars(select(Code.place_id).where(Code.active.is_(True))))
    new_codes = 0
    admin = users.get("admin")
    for place in places:
        if place.id not in have:
            db.session.add(Code(scene=new_scene("p"), place_id=place.id, area_path=place.area_path, active=True,
                                created_by=admin.id if admin else None))
            new_codes += 1
    db.session.flush()
    return [f"二维码：新增 {new_codes} 个"]
