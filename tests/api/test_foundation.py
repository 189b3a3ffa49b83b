"""The foundation as a newcomer meets it: health, docs, errors, login, tokens, lockout, scope."""
from __future__ import annotations

from datetime import timedelta

from app.core.time import travel


def test_healthz_reports_database(client):
    res = client.get("/healthz")
    assert res.status_code == 200
    body = res.get_json()
    assert body["checks"]["database"] == "ok"


def test_openapi_has_a_summary_on_every_operation(client):
    spec = client.get("/mp/v1/openapi.json").get_json()
    assert spec["paths"]
    missing = [f"{method.upper()} {path}" for path, ops in spec["paths"].items()
               for method, op in ops.items() if isinstance(op, dict) and not op.get("summary")]
    assert missing == []
    assert client.get("/mp/v1/docs").status_code == 200
    asset = client.get("/mp/v1/docs/static/swagger-ui-bundle.js")
    assert asset.status_code == 200
    asset.close()


def test_unknown_path_and_wrong_method_are_json_in_chinese(client):
    res = client.get("/mp/v1/no-such-thing")
    assert res.status_code == 404
    assert set(res.get_json()) == {"code", "status", "message", "errors"}
    assert res.get_json()["message"] == "请求的资源不存在。"
    res = client.delete("/mp/v1/auth/login")
    assert res.status_code == 405
    assert "不支持" in res.get_json()["message"]


def test_oversized_body_is_413(client, app):
    big = "x" * (app.config["MAX_CONTENT_LENGTH"] + 10)
    res = client.post("/mp/v1/auth/password", data=big, content_type="application/json")
    assert res.status_code == 413
    assert "过大" in res.get_json()["message"]


def test_validation_errors_are_422_in_chinese(client):
    res = client.post("/mp/v1/auth/password", json={"username": ""})
    assert res.status_code == 422
    body = res.get_json()
    assert body["code"] == 422
    assert body["errors"]["json"]["password"] == ["此项为必填项。"]


def test_wechat_login_returns_token_and_never_session_key(client, fake_wechat):
    code = fake_wechat.issue_code(openid="o_alice")
    res = client.post("/mp/v1/auth/login", json={"code": code})
    assert res.status_code == 200
    body = res.get_json()
    assert body["access_token"] and body["expires_in"] > 0
    assert "session_key" not in res.get_data(as_text=True)
    me = client.get("/mp/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert "session_key" not in me.get_data(as_text=True)
    # jscode2session takes the app secret: a login reads no access token, nor fetches one (so it
    # does not depend on the token store), and never the plain token that invalidates other processes.
    assert fake_wechat.state.token_requests == [] and fake_wechat.state.plain_token_requests == 0


def test_replayed_login_code_is_refused(client, fake_wechat):
    code = fake_wechat.issue_code()
    assert client.post("/mp/v1/auth/login", json={"code": code}).status_code == 200
    res = client.post("/mp/v1/auth/login", json={"code": code})
    assert res.status_code == 401
    assert "已使用" in res.get_json()["message"]


def test_bad_login_code_is_401_with_clear_message(client):
    res = client.post("/mp/v1/auth/login", json={"code": "made-up"})
    assert res.status_code == 401
    assert "微信登录凭证无效" in res.get_json()["message"]


def test_wechat_unreachable_is_503(client, app, fake_wechat):
    fake_wechat.fail_next("sns/jscode2session", {"http": 502})
    res = client.post("/mp/v1/auth/login", json={"code": fake_wechat.issue_code()})
    assert res.status_code == 503
    assert "微信" in res.get_json()["message"]
    app.config["WECHAT_API_BASE_URL"] = "http://127.0.0.1:9/"
    app.extensions.pop("gongzhi.wechat", None)
    try:
        res = client.post("/mp/v1/auth/login", json={"code": fake_wechat.issue_code()})
    finally:
        app.config["WECHAT_API_BASE_URL"] = fake_wechat.base_url
        app.extensions.pop("gongzhi.wechat", None)
    assert res.status_code == 503


def test_phone_binding_returns_masked_phone(login, fake_wechat):
    resident = login.resident()
    res = resident.post("/auth/phone", json={"code": fake_wechat.issue_phone_code("13812345678")})
    assert res.status_code == 200
    assert res.get_json()["phone"] == "138****5678"
    assert resident.get("/me").get_json()["phone"] == "138****5678"
    again = resident.post("/auth/phone", json={"code": "phone_unknown"})
    assert again.status_code == 422


def test_token_expires(login, app):
    resident = login.resident()
    assert resident.get("/me").status_code == 200
    travel(timedelta(seconds=app.config["TOKEN_TTL_SECONDS"] + 1))
    res = resident.get("/me")
    assert res.status_code == 401
    assert "过期" in res.get_json()["message"] or "失效" in res.get_json()["message"]


def test_logout_revokes_the_token(login):
    staff = login("east_admin")
    assert staff.post("/auth/logout").status_code == 204
    assert staff.get("/me").status_code == 401


def test_tampered_token_is_refused(login):
    staff = login("east_admin")
    staff.token = staff.token[:-2] + ("aa" if not staff.token.endswith("aa") else "bb")
    assert staff.get("/me").status_code == 401


def test_me_lists_roles_with_areas(login, areas):
    me = login("east_admin").get("/me").get_json()
    assert [(r["role"], r["area_id"]) for r in me["roles"]] == [("community_admin", areas["东城社区"].id)]
    assert me["phone"].count("*") == 4


def test_a_request_reads_the_caller_and_their_roles_in_one_statement(login):
    """Authentication runs on every request: the session, the user and the grants come back in one
    prebuilt statement (app/accounts/service.py), and using the grants costs no second query."""
    from sqlalchemy import event

    from app.extensions import db

    admin = login("east_admin")
    statements = []
    listener = lambda *args, **kwargs: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        me = admin.get("/me")
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert me.status_code == 200 and me.get_json()["roles"], me.get_json()
    assert sum("auth_sessions" in s for s in statements) == 1
    assert not any("FROM role_grants" in s for s in statements)


def test_scope_isolation_between_communities(login, areas):
    east = login("east_admin")
    west_grid = areas["西园社区第一网格"]
    # cannot read
    assert east.get(f"/admin/areas/{west_grid.id}").status_code == 403
    listed = east.get("/admin/places?limit=100").get_json()["items"]
    assert listed and all("西园" not in p["name"] for p in listed)
    # cannot change
    res = east.post("/admin/places", json={"grid_id": west_grid.id, "name": "越权楼", "kind": "building"})
    assert res.status_code == 403
    west_place = next(p for p in login("west_admin").get("/admin/places").get_json()["items"])
    assert east.patch(f"/admin/places/{west_place['id']}", json={"name": "改名"}).status_code == 403
    # and the street admin above both sees both
    street = login("street_admin").get("/admin/places?limit=100").get_json()["items"]
    assert any("西园" in p["name"] for p in street) and any("东城" in p["name"] for p in street)


def test_area_tree_rules(login, areas):
    east = login("east_admin")
    res = east.post("/admin/areas", json={"name": "东城社区第三网格", "level": "grid",
                                          "parent_id": areas["东城社区"].id})
    assert res.status_code == 201
    grid_id = res.get_json()["id"]
    res = east.post("/admin/areas", json={"name": "错层", "level": "community", "parent_id": grid_id})
    assert res.status_code == 422
    res = east.post("/admin/places", json={"grid_id": grid_id, "name": "新楼", "kind": "building"})
    assert res.status_code == 201


def test_pagination_is_keyset_and_bounded(login):
    admin = login("admin")
    first = admin.get("/admin/places?limit=2").get_json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = admin.get(f"/admin/places?limit=2&cursor={first['next_cursor']}").get_json()
    assert {p["id"] for p in first["items"]}.isdisjoint({p["id"] for p in second["items"]})
    assert admin.get("/admin/places?limit=101").status_code == 422
    assert admin.get("/admin/places?cursor=garbage!").status_code == 400


def test_staff_writes_are_audited_with_who_and_where(login, areas):
    from sqlalchemy import select

    from app.core.audit import AuditLog
    from app.extensions import db

    east = login("east_admin")
    res = east.post("/admin/places", json={"grid_id": areas["东城社区第一网格"].id, "name": "审计楼", "kind": "building"},
                    environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert res.status_code == 201
    row = db.session.scalars(select(AuditLog).order_by(AuditLog.id.desc())).first()
    assert row.method == "POST" and row.path == "/mp/v1/admin/places" and row.ip == "10.1.2.3"
    assert row.actor_id == east.get("/me").get_json()["id"]


def test_out_of_range_ids_and_nul_bytes_are_clean_errors(login):
    admin = login("admin")
    assert admin.get("/cases/99999999999999999999").status_code == 404
    res = admin.get("/cases?category_id=9007199254740991")
    assert res.status_code in (200, 422)
    res = admin.post("/admin/places", json={"grid_id": 1, "name": "nul\u0000name", "kind": "building"})
    assert res.status_code in (201, 403, 422) and res.status_code < 500
