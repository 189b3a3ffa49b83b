"""Demo data: a county with one street, two communities, grids, places, codes and every role.

Idempotent: running it twice finds what exists and creates only what is missing.
"""
from __future__ import annotations

from sqlalchemy import select

from app import demo_points as points_demo
from app.accounts import service as accounts
from app.accounts.models import User
from app.areas.models import COMMUNITY, DISTRICT, GRID, STREET, Area, Department, Place
from app.cases import demo as cases_demo
from app.codes import demo as codes_demo
from app.contact import demo as contact_demo
from app.demo_history import seed_history
from app.extensions import db
from app.geo import demo as geo_demo
from app.members import demo as members_demo
from app.newgroups import demo as newgroups_demo
from app.praise import demo as praise_demo
from app.records import demo as records_demo
from app.stats import rollups
from app.suggestions import demo as suggestions_demo
from app.volunteering import demo as volunteering_demo
from app.wishes import demo as wishes_demo

DEMO_PASSWORD = "gongzhi-demo"

TREE = {
    "name": "沁源县", "level": DISTRICT, "children": [
        {"name": "沁河镇", "level": STREET, "children": [
            {"name": "东城社区", "level": COMMUNITY, "children": [
                {"name": "东城社区第一网格", "level": GRID, "places": [
                    ("building", "东城小区1号楼", "沁河镇东城小区1号楼"),
                    ("building", "东城小区2号楼", "沁河镇东城小区2号楼"),
                    ("shop", "老王便民超市", "东城街18号"),
                ]},
                {"name": "东城社区第二网格", "level": GRID, "places": [
                    ("outdoor", "日晷公园东门", "日晷公园东门广场"),
                    ("unit", "幸福里3号楼2单元", "幸福里小区3号楼2单元"),
                ]},
            ]},
            {"name": "西园社区", "level": COMMUNITY, "children": [
                {"name": "西园社区第一网格", "level": GRID, "places": [
                    ("building", "西园小区5号楼", "沁河镇西园小区5号楼"),
                    ("shop", "西园菜市场", "西园路66号"),
                ]},
            ]},
        ]},
    ],
}

# username, display name, role, area name (None: system-wide), department name
ACCOUNTS = [
    ("admin", "系统管理员", "system_admin", None, None),
    ("street_admin", "沁河镇管理员", "street_admin", "沁河镇", None),
    ("east_admin", "东城社区书记", "community_admin", "东城社区", None),
    ("west_admin", "西园社区书记", "community_admin", "西园社区", None),
    ("grid_east1", "李网格员", "grid_worker", "东城社区第一网格", None),
    ("grid_east2", "赵网格员", "grid_worker", "东城社区第二网格", None),
    ("grid_west1", "王网格员", "grid_worker", "西园社区第一网格", None),
    ("dept_cg", "城管执法中队", "department", "沁河镇", "城管执法中队"),
    ("dept_wy", "住建物业办", "department", "沁河镇", "住建物业办"),
    ("rep_npc", "张代表", "representative", "沁河镇", None),
    ("member_east", "刘党员", "party_member", "东城社区", None),
]

DEPARTMENTS = [("城管执法中队", "沁河镇"), ("住建物业办", "沁河镇"), ("供水公司", "沁源县")]


# In this order: later domains use what earlier ones created.
# Each domain with demo data has `seed_demo(**context) -> list[str]` in its demo module, run in this order.
DEMO_DOMAINS = (codes_demo, contact_demo, geo_demo, cases_demo, members_demo, wishes_demo, volunteering_demo,
                suggestions_demo, praise_demo, records_demo, newgroups_demo,
                points_demo)


def _area(name: str, level: str, parent: Area | None) -> tuple[Area, bool]:
    found = db.session.scalar(select(Area).where(Area.name == name, Area.level == level))
    if found:
        return found, False
    area = Area(name=name, level=level, parent_id=parent.id if parent else None)
    db.session.add(area)
    db.session.flush()
    area.path = f"{parent.path if parent else '/'}{area.id}/"
    return area, True


def _walk(node: dict, parent: Area | None, areas: dict[str, Area], places: list[Place]) -> None:
    area, _ = _area(node["name"], node["level"], parent)
    areas[area.name] = area
    for kind, name, address in node.get("places", []):
        place = db.session.scalar(select(Place).where(Place.name == name, Place.grid_id == area.id))
        if place is None:
            place = Place(grid_id=area.id, grid=area, name=name, kind=kind, address=address, area_path=area.path)
            db.session.add(place)
            db.session.flush()
        places.append(place)
    for child in node.get("children", []):
        _walk(child, area, areas, places)


def seed_demo(history: bool = True) -> list[str]:
    """The demo street with its accounts and a few objects of each kind; with `history`, six months of
    cases, wishes, service hours, praise and suggestions before today (app/demo_history.py). The tests seed
    without the history, so that what they count stays small and their resets fast."""
    areas: dict[str, Area] = {}
    places: list[Place] = []
    _walk(TREE, None, areas, places)

    departments: dict[str, Department] = {}
    for name, area_name in DEPARTMENTS:
        dep = db.session.scalar(select(Department).where(Department.name == name))
        if dep is None:
            area = areas[area_name]
            dep = Department(name=name, area_id=area.id, area=area, area_path=area.path)
            db.session.add(dep)
            db.session.flush()
        departments[name] = dep

    users: dict[str, User] = {}
    for username, display, role, area_name, dep_name in ACCOUNTS:
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None:
            user = accounts.create_user(
                username, DEMO_PASSWORD, display_name=display, phone=f"1380000{len(users):04d}",
            )
        accounts.grant_role(user, role, area_id=areas[area_name].id if area_name else None,
                            department_id=departments[dep_name].id if dep_name else None)
        users[username] = user

    summary = [f"区域 {len(areas)} 个，场所 {len(places)} 个，部门 {len(departments)} 个，账号 {len(users)} 个"]
    for domain in DEMO_DOMAINS:
        summary.extend(domain.seed_demo(areas=areas, places=places, users=users, departments=departments))
    if history:
        summary.extend(seed_history(areas=areas, places=places, users=users, departments=departments))
    rollups.refresh()  # the street and county figures read rollups: show the demo's at once
    return summary

