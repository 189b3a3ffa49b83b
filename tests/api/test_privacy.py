"""Personal data: session_key is never stored nor sent; phones are encrypted at rest and masked."""
from __future__ import annotations

import io
import logging
import zipfile

from sqlalchemy import inspect, text

from app.extensions import db


def test_session_key_never_appears_in_responses_or_logs(client, fake_wechat, caplog, app):
    caplog.set_level(logging.DEBUG)
    code = fake_wechat.issue_code(openid="o_privacy")
    bodies = [client.post("/mp/v1/auth/login", json={"code": code})]
    token = bodies[0].get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    spec = client.get("/mp/v1/openapi.json").get_json()
    for path, ops in spec["paths"].items():
        if "get" in ops and "{" not in path and not path.endswith((".csv", ".xlsx", ".pdf", "/export")):
            bodies.append(client.get("/mp/v1" + path if not path.startswith("/mp/v1") else path, headers=headers))
    (session_key,) = fake_wechat.state.issued_session_keys
    assert len(bodies) > 10
    for res in bodies:
        assert session_key not in res.get_data(as_text=True)
        assert "session_key" not in res.get_data(as_text=True)
    exported = client.get("/mp/v1/me/export", headers=headers)
    with zipfile.ZipFile(io.BytesIO(exported.data)) as archive:
        assert session_key not in archive.read("data.json").decode()
    for record in caplog.records:
        assert session_key not in record.getMessage()
    # and it is not stored at all: nothing uses it
    assert not any("session" in c["name"] for c in inspect(db.session.connection()).get_columns("users"))


def test_phone_is_encrypted_at_rest_and_masked_in_responses(login, fake_wechat):
    resident = login.resident(openid="o_phone")
    resident.post("/auth/phone", json={"code": fake_wechat.issue_phone_code("13912345678")})
    row = db.session.execute(text("SELECT phone_encrypted, phone_last4 FROM users WHERE openid = 'o_phone'")).one()
    assert "13912345678" not in row[0] and row[1] == "5678"
    assert "13912345678" not in resident.get("/me").get_data(as_text=True)
