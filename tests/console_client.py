"""A test client for the staff console: signs in through the login form and sends each POST with its CSRF token."""
from __future__ import annotations

import re

from flask import g

from app.demo import DEMO_PASSWORD

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class Console:
    """Each request starts with an empty `g`: the test's app context (which holds the test's database
    session) is reused by every request, and would carry the signed-in staff member from one to the next."""

    def __init__(self, client, username: str | None = None):
        self.client = client
        self.token: str | None = None
        if username:
            self.login(username)

    def _open(self, method: str, path: str, **kwargs):
        vars(g).clear()
        return self.client.open(path, method=method, **kwargs)

    def token_from(self, path: str = "/console/login") -> None:
        """Take the CSRF token from a page's form (the portal's pages work the same way)."""
        page = self.get(path)
        found = TOKEN.search(page.get_data(as_text=True))
        self.token = found.group(1) if found else None

    def login(self, username: str) -> Console:
        self.token_from()
        res = self._open("POST", "/console/login", data={"username": username, "password": DEMO_PASSWORD,
                                                        "csrf_token": self.token})
        assert res.status_code == 302, res.get_data(as_text=True)[:300]
        self.token_from("/console/")
        return self

    def get(self, path: str, **kwargs):
        return self._open("GET", path, **kwargs)

    def post(self, path: str, data: dict | None = None, **kwargs):
        if self.token is None:
            self.token_from()
        return self._open("POST", path, data={**(data or {}), "csrf_token": self.token}, **kwargs)

    def flashes(self) -> list[tuple[str, str]]:
        """The messages the last POST left for the next page (category, message), consumed."""
        with self.client.session_transaction() as session:
            return list(session.pop("_flashes", []))
