"""Roles in the console, attacked: nobody grants beyond their scope, to people outside it, or to themselves."""
from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import RoleGrant, User
from app.areas.models import Department
from app.extensions import db
from tests.console_client import Console


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def _grants(username: str) -> set[tuple[str, int | None, int | None]]:
    db.session.expire_all()
    return {(g.role, g.area_id, g.department_id) for g in _user(username).grants}


def _county_department(areas) -> Department:
    county = areas["沁源县"]
    department = Department(name="县应急管理局", area_id=county.id, area=county, area_path=county.path)
    db.session.add(department)
    db.session.flush()
    return department


def test_a_street_admin_cannot_grant_themselves_a_county_department(app, areas):
    department = _county_department(areas)
    street = Console(app.test_client(), "street_admin")
    before = _grants("street_admin")
    res = street.post(f"/console/users/{_user('street_admin').id}/grants",
                      data={"role": "department", "department_id": department.id})
    assert res.status_code == 302
    assert _grants("street_admin") == before
    assert any(kind == "error" for kind, _ in street.flashes())


def test_a_street_admin_cannot_grant_anyone_a_department_above_their_street(app, areas):
    department = _county_department(areas)
    street = Console(app.test_client(), "street_admin")
    before = _grants("grid_east1")
    street.post(f"/console/users/{_user('grid_east1').id}/grants",
                data={"role": "department", "department_id": department.id})
    assert _grants("grid_east1") == before
    assert ("error", "该部门不在您的管辖范围内。") in street.flashes()
    # The form offers only the departments of their street.
    page = street.get("/console/users").get_data(as_text=True)
    assert "县应急管理局" not in page and "城管执法中队" in page


def test_a_street_admin_still_grants_a_department_of_their_street(app):
    street = Console(app.test_client(), "street_admin")
    department = db.session.scalar(select(Department).where(Department.name == "城管执法中队"))
    street.post(f"/console/users/{_user('grid_east1').id}/grants",
                data={"role": "department", "department_id": department.id})
    assert ("success", "已授予角色。") in street.flashes()
    assert ("department", department.area_id, department.id) in _grants("grid_east1")


def test_nobody_grants_or_revokes_their_own_roles(app, areas):
    admin = Console(app.test_client(), "admin")
    before = _grants("admin")
    admin.post(f"/console/users/{_user('admin').id}/grants",
               data={"role": "street_admin", "area_id": areas["沁河镇"].id})
    assert _grants("admin") == before
    assert ("error", "不能更改自己的角色。") in admin.flashes()

    east = Console(app.test_client(), "east_admin")
    own = db.session.scalar(select(RoleGrant).where(RoleGrant.user_id == _user("east_admin").id))
    east.post(f"/console/grants/{own.id}/revoke")
    assert ("error", "不能更改自己的角色。") in east.flashes()
    assert _grants("east_admin")


def test_a_community_admin_cannot_change_the_roles_of_someone_outside_their_community(app, areas):
    east = Console(app.test_client(), "east_admin")
    west_worker = _user("grid_west1")
    before = _grants("grid_west1")
    # A grid of 东城 given to 西园's grid worker would make them staff here.
    grid = next(a for name, a in areas.items() if name.startswith("东城社区第一"))
    east.post(f"/console/users/{west_worker.id}/grants", data={"role": "grid_worker", "area_id": grid.id})
    assert _grants("grid_west1") == before
    assert ("error", "该人员不在您的管辖范围内。") in east.flashes()
    # Nor revoke what 西园's admin granted, nor touch their street admin.
    west_grant = db.session.scalar(select(RoleGrant).where(RoleGrant.user_id == west_worker.id))
    east.post(f"/console/grants/{west_grant.id}/revoke")
    assert ("error", "该人员不在您的管辖范围内。") in east.flashes()
    east.post(f"/console/users/{_user('street_admin').id}/grants", data={"role": "grid_worker", "area_id": grid.id})
    assert ("error", "该人员不在您的管辖范围内。") in east.flashes()
    assert _grants("grid_west1") == before


def test_a_community_admin_still_manages_their_own_grid_workers(app, areas):
    east = Console(app.test_client(), "east_admin")
    grid = next(a for name, a in areas.items() if name.startswith("东城社区第二"))
    east.post(f"/console/users/{_user('grid_east1').id}/grants", data={"role": "grid_worker", "area_id": grid.id})
    assert ("success", "已授予角色。") in east.flashes()
    assert ("grid_worker", grid.id, None) in _grants("grid_east1")
