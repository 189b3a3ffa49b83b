"""Where a platform posts back: `POST /hotline/v1/events`, signed (app/hotline/signing.py)."""
from __future__ import annotations

from flask import Blueprint, request

from app import edge
from app.hotline import service, signing

bp = Blueprint("hotline", __name__, url_prefix="/hotline/v1")


@bp.post("/events")
@edge.unit_of_work
def events():
    return service.receive(request.headers.get(signing.PLATFORM), request.headers.get(signing.TIMESTAMP),
                           request.headers.get(signing.SIGNATURE), request.get_data())
