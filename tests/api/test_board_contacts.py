"""A place's board on the web: the posted police and property lines are tappable (tel:), as on the notice boards
in the street; a grid worker's own phone stays masked."""
from __future__ import annotations

import re

from sqlalchemy import select

from app.accounts.models import User
from app.accounts.service import actor_for
from app.areas.models import Area, Place
from app.codes.models import Code
from app.contact.service import set_contact
from app.core import crypto
from app.extensions import db


def _scene(place: str) -> str:
    return db.session.scalar(select(Code.scene).join(Place, Place.id == Code.place_id)
                             .where(Place.name == place, Code.active.is_(True)).order_by(Code.id))


def test_posted_service_lines_are_tappable_and_a_grid_workers_phone_is_not(client, areas):
    grid = db.session.scalar(select(Area).where(Area.name == "东城社区第一网格"))
    admin = actor_for(db.session.scalar(select(User).where(User.username == "east_admin")))
    set_contact(admin, area_id=grid.id, role="property", name="晋源物业服务中心", phone="0356-7012345")
    db.session.commit()
    page = client.get(f"/s/{_scene('东城小区1号楼')}").get_data(as_text=True)
    links = set(re.findall(r'href="tel:([^"]+)"', page))
    assert links == {"13934561201", "0356-7012345"}, links  # 网格民警 and the property desk
    worker = db.session.scalar(select(User).where(User.username == "grid_east1"))
    assert crypto.mask_phone(crypto.decrypt(worker.phone_encrypted)) in page
    assert crypto.decrypt(worker.phone_encrypted) not in page
