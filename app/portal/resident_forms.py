"""Resident pages for what is not tied to a place: a suggestion to a representative (or their liaison
office) and a micro-wish, sent from the web with the phone the resident leaves."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from app.areas import service as areas
from app.core.errors import Invalid
from app.portal import web
from app.portal.resident import _person_fields, _resident, bp
from app.suggestions import service as suggestions
from app.wishes import service as wishes
from app.wishes.models import CATEGORIES


def _representatives():
    return suggestions.list_representatives(limit=100).items


@bp.route("/suggestions/new", methods=["GET", "POST"])
def suggest():
    if request.method == "POST":
        def send():
            given = web.check_all(
                area_id=lambda: web.required_choice("area_id", "请选择您所在的社区"),
                title=lambda: web.required_text("title", "请填写建议的标题", 60),
                body=lambda: web.required_text("body", "请填写建议的内容", 2000, multiline=True),
                **_person_fields())
            representative_id = web.number("representative_id")
            return suggestions.submit(_resident(), title=given["title"], body=given["body"],
                                      representative_id=representative_id,
                                      area_id=None if representative_id else given["area_id"],
                                      allow_publication=request.form.get("allow_publication") == "1")

        ok, _ = web.attempt(send)
        if ok:
            flash("建议已提交。代表或代表联络站会在办理后答复，需要时按您留下的电话联系您；您同意公开的，"
                  "办结后会在“建议公开”栏展示。", "success")
            return redirect(url_for("portal.suggestion_board"))
    return render_template("portal/suggest.html", communities=areas.communities(),
                           representatives=_representatives(), form=request.form)


@bp.route("/wishes/new", methods=["GET", "POST"])
def make_wish():
    if request.method == "POST":
        def send():
            given = web.check_all(
                title=lambda: web.required_text("title", "请填写心愿标题", 30),
                category=lambda: _category(),
                desired_date=lambda: _required_date(),
                community_id=lambda: web.required_choice("community_id", "请选择所在社区"),
                address=lambda: web.required_text("address", "请填写上门服务的地址", 200),
                **_person_fields())
            return wishes.create_wish(_resident(), title=given["title"], detail=web.text("detail", 500, multiline=True),
                                      category=given["category"], desired_date=given["desired_date"],
                                      community_id=given["community_id"], address=given["address"],
                                      contact_phone=given["phone"], contact_name=given["name"])

        ok, _ = web.attempt(send)
        if ok:
            flash("心愿已提交。社区审核后会放进心愿池，党员认领后会按您留下的电话与您联系。", "success")
            return redirect(url_for("portal.wish_pool"))
    return render_template("portal/make_wish.html", communities=areas.communities(), categories=CATEGORIES,
                           form=request.form)


def _category() -> str:
    value = request.form.get("category", "")
    if value not in CATEGORIES:
        raise Invalid("请选择心愿类别", errors={"category": ["请选择心愿类别"]})
    return value


def _required_date():
    day = web.local_date("desired_date")
    if day is None:
        raise Invalid("请选择期望完成的日期", errors={"desired_date": ["请选择期望完成的日期"]})
    return day
