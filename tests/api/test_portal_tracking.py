"""Tracking on the portal, attacked: the number alone is not enough, and guessing the phone digits is slow."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.areas.models import Place
from app.cases.models import Case, Category
from app.codes.models import Code
from app.core.time import travel
from app.extensions import db
from app.privacy.notice import VERSION
from tests.console_client import Console

PHONE = "13912345678"


def _report(app) -> str:
    place = db.session.scalar(select(Place).where(Place.name == "东城小区1号楼"))
    scene = db.session.scalar(select(Code.scene).where(Code.place_id == place.id, Code.active.is_(True)))
    category = db.session.scalar(select(Category).where(Category.name == "环境卫生"))
    resident = Console(app.test_client())
    resident.token_from(f"/s/{scene}/report")
    res = resident.post(f"/s/{scene}/report", data={"phone": PHONE, "name": "陈女士", "category_id": category.id,
                                                    "description": "楼下垃圾桶满了", "privacy_version": VERSION})
    assert res.status_code == 302, res.get_data(as_text=True)[:500]
    return db.session.scalar(select(Case.tracking_no).order_by(Case.id.desc()))


def _try(visitor: Console, tracking_no: str, digits: str):
    return visitor.post("/track", data={"tracking_no": tracking_no, "phone_last4": digits})


def test_the_number_without_the_phone_digits_shows_nothing(app):
    tracking_no = _report(app)
    visitor = Console(app.test_client())
    visitor.token_from("/track")
    for digits in ("", "0000"):
        res = _try(visitor, tracking_no, digits)
        assert res.status_code == 200 and "楼下垃圾桶满了" not in res.get_data(as_text=True)
        assert "未找到匹配的事件" in res.get_data(as_text=True)
    assert visitor.get(f"/track/{tracking_no}").status_code == 302  # not remembered: back to the form


def test_five_wrong_tries_lock_the_number_for_an_hour(app):
    tracking_no = _report(app)
    attacker = Console(app.test_client())
    attacker.token_from("/track")
    for guess in ("0000", "1111", "2222", "3333", "4444"):
        assert _try(attacker, tracking_no, guess).status_code == 200
    # The right digits now fail too, from any browser: the counter is the number's, kept in the database.
    owner = Console(app.test_client())
    owner.token_from("/track")
    locked = _try(owner, tracking_no, PHONE[-4:])
    assert locked.status_code == 429
    assert "查询错误次数过多" in locked.get_data(as_text=True)
    travel(timedelta(hours=1, minutes=1))
    assert _try(owner, tracking_no, PHONE[-4:]).status_code == 302


def test_the_right_digits_open_the_case(app):
    tracking_no = _report(app)
    owner = Console(app.test_client())
    owner.token_from("/track")
    assert _try(owner, tracking_no, "9999").status_code == 200
    res = _try(owner, tracking_no, PHONE[-4:])
    assert res.status_code == 302
    assert "楼下垃圾桶满了" in owner.get(res.headers["Location"]).get_data(as_text=True)
