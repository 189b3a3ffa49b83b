"""The resident portal's 长辈版 switch (app/portal/resident_display.py): a cookie, the page drawn with
<html class="elder"> by the server, back to the page it was pressed on and never to another site."""
from __future__ import annotations

import pytest

from app.portal.resident_display import COOKIE


def _html_tag(client, path: str) -> str:
    body = client.get(path, headers={"Accept": "text/html"}).get_data(as_text=True)
    return body[body.index("<html"):body.index(">", body.index("<html")) + 1]


def test_the_switch_remembers_elder_mode_in_a_cookie_and_the_server_draws_it(client):
    assert _html_tag(client, "/track") == '<html lang="zh-CN">'
    response = client.post("/display", data={"mode": "elder", "next": "/track?tracking_no=GZ1"})
    assert response.status_code == 303 and response.headers["Location"] == "/track?tracking_no=GZ1"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE}=elder;") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Max-Age=" in cookie  # remembered across browser restarts
    assert _html_tag(client, "/track") == '<html lang="zh-CN" class="elder">'
    assert _html_tag(client, "/no-such-page") == '<html lang="zh-CN" class="elder">'  # the error page too
    assert _html_tag(client, "/console/login") == '<html lang="zh-CN">'  # the console keeps its look

    response = client.post("/display", data={"mode": "standard", "next": "/track"})
    assert response.status_code == 303
    assert _html_tag(client, "/track") == '<html lang="zh-CN">'


def test_the_script_switch_gets_no_redirect(client):
    response = client.post("/display", data={"mode": "elder"}, headers={"X-Requested-With": "fetch"})
    assert response.status_code == 204 and f"{COOKIE}=elder" in response.headers["Set-Cookie"]


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "/mp/v1/nothing",
                                    "/track/GZ1/withdraw", "", "javascript:alert(1)"])
def test_the_switch_never_sends_the_browser_elsewhere(client, target):
    response = client.post("/display", data={"mode": "elder", "next": target})
    assert response.status_code == 303 and response.headers["Location"] == "/"
