"""Demo data: the police and property contacts of each demo grid."""
from __future__ import annotations

from sqlalchemy import select

from app.areas.models import GRID
from app.contact.models import POLICE, PROPERTY, AreaContact
from app.core import crypto
from app.extensions import db

# grid name -> [(role, name, phone)]
CONTACTS = {
    "东城社区第一网格": [(POLICE, "王建军", "13934561201"), (PROPERTY, "晋源物业 刘丽华", "13834562210")],
    "东城社区第二网格": [(POLICE, "陈志强", "13935470312"), (PROPERTY, "幸福里物业 郭美玲", "13703551486")],
    "西园社区第一网格": [(POLICE, "李红兵", "13994028873"), (PROPERTY, "西园物业 赵慧", "15235503367")],
}


def seed_demo(*, areas, places, users, departments) -> list[str]:
    new_contacts = 0
    for grid_name, contacts in CONTACTS.items():
        grid = areas.get(grid_name)
        if grid is None or grid.level != GRID:
            continue
        for role, name, phone in contacts:
            exists = db.session.scalar(select(AreaContact.id).where(AreaContact.area_id == grid.id,
                                                                     AreaContact.role == role))
            if exists is None:
                db.session.add(AreaContact(area_id=grid.id, area_path=grid.path, role=role, name=name,
                                           phone_encrypted=crypto.encrypt(phone)))
                new_contacts += 1
    db.session.flush()
    return [f"网格联系人（民警、物业）：新增 {new_contacts} 个"]
