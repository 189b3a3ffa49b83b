"""Resident pages: scan, report, track, and the public boards. Mobile first."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template

bp = Blueprint("portal", __name__, template_folder="templates", static_folder="static",
               static_url_path="/portal-static")


@bp.get("/")
def home():
    return render_template("portal/home.html")


@bp.get("/privacy")
def privacy():
    return render_template("portal/privacy.html", retention_months=current_app.config["RETENTION_MONTHS"])
