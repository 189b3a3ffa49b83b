"""Jinja filters shared by the portal's templates."""
from flask import Flask

from app.accounts.models import ROLE_LABELS
from app.cases.states import STATE_LABELS
from app.core.crypto import mask_name, mask_phone
from app.core.time import local_display


def _case_status(status: str) -> str:
    return STATE_LABELS.get(status, status)


def register(app: Flask) -> None:
    app.jinja_env.filters["local"] = local_display
    app.jinja_env.filters["mask_phone"] = mask_phone
    app.jinja_env.filters["mask_name"] = mask_name
    app.jinja_env.filters["role_label"] = lambda role: ROLE_LABELS.get(role, role)
    app.jinja_env.filters["case_status"] = _case_status
