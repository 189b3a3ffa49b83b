"""DATA_KEY: required in production, never derived from SECRET_KEY; keys rotate; a value no key opens is an error."""
from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from app.accounts import service as accounts
from app.accounts.models import User
from app.config import ConfigError, load_config
from app.core import crypto
from app.extensions import db

OLD, NEW = "old-data-key-0123456789abcdef0123456789", "new-data-key-0123456789abcdef0123456789"


def test_production_refuses_to_start_without_a_data_key(monkeypatch):
    monkeypatch.setenv("GONGZHI_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-production-secret-key-that-is-long-enough")
    monkeypatch.delenv("DATA_KEY", raising=False)
    with pytest.raises(ConfigError, match="DATA_KEY"):
        load_config()
    monkeypatch.setenv("DATA_KEY", "a-production-secret-key-that-is-long-enough")  # SECRET_KEY again
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config()
    monkeypatch.setenv("DATA_KEY", "short")
    with pytest.raises(ConfigError, match="32"):
        load_config()
    monkeypatch.setenv("DATA_KEY", f"{NEW}, legacy")  # an older key may be anything that was used before
    assert load_config()["DATA_KEYS"] == [NEW, "legacy"]


def test_development_uses_its_own_key_not_one_derived_from_secret_key(monkeypatch):
    monkeypatch.delenv("DATA_KEY", raising=False)
    monkeypatch.delenv("GONGZHI_ENV", raising=False)
    one = load_config({"SECRET_KEY": "first"})["DATA_KEYS"]
    two = load_config({"SECRET_KEY": "second"})["DATA_KEYS"]
    assert one == two  # changing SECRET_KEY leaves personal data readable


def test_keys_rotate_and_a_command_re_encrypts_everything(app, login, fake_wechat, monkeypatch):
    seeded = list(app.config["DATA_KEYS"])  # the demo data was written under the test key
    monkeypatch.setitem(app.config, "DATA_KEYS", [OLD, *seeded])
    resident = login.resident(openid="o_rotate")
    resident.post("/auth/phone", json={"code": fake_wechat.issue_phone_code("13611112222")})
    user = db.session.scalar(select(User).where(User.openid == "o_rotate"))
    under_old, hash_old = user.phone_encrypted, user.phone_hash

    monkeypatch.setitem(app.config, "DATA_KEYS", [NEW, OLD, *seeded])  # the new key first: old data still reads
    assert accounts.phone_of(user) == "13611112222"
    assert resident.get("/me").get_json()["phone"] == "136****2222"
    assert crypto.decrypt(crypto.encrypt("x")) == "x"

    result = app.test_cli_runner().invoke(args=["rekey-personal-data", "--batch", "2"])
    assert result.exit_code == 0, result.output
    assert "users.phone_encrypted" in result.output
    db.session.refresh(user)
    assert user.phone_encrypted != under_old and user.phone_hash != hash_old

    monkeypatch.setitem(app.config, "DATA_KEYS", [NEW])  # the old key dropped: everything still reads
    assert accounts.phone_of(user) == "13611112222"
    assert db.session.scalar(select(User.id).where(User.phone_hash == crypto.lookup_hash("13611112222"))) == user.id


def test_a_value_no_key_opens_is_an_error_logged_and_surfaced(app, login, fake_wechat, monkeypatch, caplog):
    resident = login.resident(openid="o_wrong_key")
    resident.post("/auth/phone", json={"code": fake_wechat.issue_phone_code("13633334444")})
    monkeypatch.setitem(app.config, "DATA_KEYS", ["a-key-that-never-wrote-anything-at-all"])
    caplog.set_level(logging.ERROR)
    res = resident.get("/me")
    assert res.status_code == 503 and "DATA_KEY" in res.get_json()["message"]  # never a silent blank phone
    assert any("cannot be decrypted" in r.getMessage() for r in caplog.records)
    failed = app.test_cli_runner().invoke(args=["rekey-personal-data"])
    assert failed.exit_code != 0 and "无法用已配置的任何密钥解密" in failed.output
