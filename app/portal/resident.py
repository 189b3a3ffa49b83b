"""Resident pages: scan, report, track, and the public boards. Mobile first."""
from __future__ import annotations

import io

from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_wtf.csrf import CSRFError

from app import scan as scanning
from app.accounts import service as accounts
from app.areas import directory
from app.areas import service as areas
from app.cases import presenter
from app.cases import service as cases
from app.cases.categories import list_categories
from app.cases.states import STATE_LABELS
from app.cases.tracking import (
    NOT_FOUND,
    case_and_reporter,
    remembered_cases,
    tracked_case,
    tracking_budget_left,
)
from app.contact import service as contact
from app.contact.models import CONTACT_ROLES
from app.core.errors import Invalid
from app.core.scoping import Actor
from app.extensions import csrf
from app.portal import web
from app.praise import service as praises
from app.privacy import notice, rights
from app.privacy.models import REQUEST_KINDS
from app.suggestions.service import public_board
from app.volunteering import certificates
from app.wishes import board as wish_board

bp = Blueprint("portal", __name__, template_folder="templates", static_folder="static",
               static_url_path="/portal-static")
web.register_error_pages(bp)

TRACKED_KEY = "tracked_cases"
SEEN_KEY = "seen_status"
THREADS_KEY = "message_threads"
TRACKED_MAX = 10


@bp.before_request
def _csrf():
    # A resident's form with an expired token is not acted on: web.attempt, which every resident POST
    # goes through, refuses it and the page comes back with the input kept (reads before it are harmless).
    if request.method == "POST":
        try:
            csrf.protect()
        except CSRFError:
            web.form_expired()


@bp.get("/")
def home():
    return render_template("portal/home.html")


@bp.context_processor
def _privacy_version():
    return {"privacy_version": notice.VERSION}


@bp.get("/privacy")
def privacy():
    return render_template("portal/privacy.html", notice=notice.notice(), kinds=REQUEST_KINDS, form={})


@bp.post("/privacy/requests")
def privacy_request():
    """查阅、更正、注销 for a resident without the mini-program: staff over their records handle it."""
    ok, _ = web.attempt(lambda: rights.submit_request(accounts.normalise_phone(request.form.get("phone", "")),
                                                      request.form.get("kind", ""),
                                                      web.text("detail", 500, multiline=True)))
    if ok:
        flash(f"申请已提交。如该手机号在本平台有记录，社区工作人员将在 {rights.REQUEST_DAYS} 日内致电核实身份并办理。",
              "success")
        return redirect(url_for("portal.privacy"))
    return render_template("portal/privacy.html", notice=notice.notice(), kinds=REQUEST_KINDS, form=request.form)


# -- scanning a place ---------------------------------------------------------------------------

def _scan(scene: str):
    return scanning.scan(scene)


def _resident() -> Actor:
    """The resident of a portal form, known by the phone number they typed (the portal has no WeChat);
    the version of the privacy notice they accepted is recorded with the submission."""
    version = rights.required_version(request.form.get("privacy_version", ""))
    user = accounts.portal_resident(request.form.get("phone", ""), web.text("name", 32))
    rights.record_consent(user, version, "portal")
    return accounts.actor_for(user)


def _person_fields() -> dict:
    """Readers of the fields every resident form has (web.check_all reports them all at once)."""
    return {
        "phone": lambda: accounts.normalise_phone(request.form.get("phone", "")),
        "name": lambda: web.text("name", 32),
        "privacy_version": lambda: rights.required_version(request.form.get("privacy_version", "")),
    }


@bp.get("/s/<scene>")
def scan(scene):
    return render_template("portal/scan.html", scan=_scan(scene))


@bp.route("/s/<scene>/report", methods=["GET", "POST"])
def report(scene):
    return _report_page(_scan(scene), url_for("portal.report", scene=scene), scene=scene)


@bp.get("/report")
def report_anywhere():
    """我要上报 without a QR code: choose the community, then find the place by a word of its name."""
    community = areas.get_community(web.query_int("community_id"))
    q = (request.args.get("q") or "").strip()
    places = directory.find_places(community.id, q) if community else []
    return render_template("portal/report_anywhere.html", communities=areas.communities(), community=community,
                           q=q, places=places)


@bp.route("/places/<int:place_id>/report", methods=["GET", "POST"])
def report_at_place(place_id):
    return _report_page(directory.public_place(place_id), url_for("portal.report_at_place", place_id=place_id),
                        place_id=place_id)


def _report_page(shown, action: str, *, scene: str | None = None, place_id: int | None = None):
    """The report form at a scanned place or at one chosen from the directory: the same checks either way."""
    if request.method == "POST":
        def file_case():
            given = web.check_all(
                category_id=lambda: web.required_choice("category_id", "请选择问题类别"),
                description=lambda: web.required_text("description", "请描述遇到的问题", multiline=True),
                photos=web.photo_files, **_person_fields())
            actor = _resident()
            photo_ids = web.save_photos(actor)
            return cases.report_case(actor, scene=scene, place_id=place_id, category_id=given["category_id"],
                                     description=given["description"], photo_ids=photo_ids,
                                     anonymous=request.form.get("anonymous") == "1")

        ok, result = web.attempt(file_case)
        if ok:
            case, similar, _ = result
            _remember(case.id)
            flash(f"上报成功！受理编号 {case.tracking_no}，请记下编号，凭编号和手机号后四位查询进度。", "success")
            if similar:
                flash(f"附近 72 小时内已有 {len(similar)} 条同类上报，工作人员会一并处理。", "info")
            return redirect(url_for("portal.tracked", tracking_no=case.tracking_no))
    categories = list_categories(Actor.anonymous(), limit=100).items
    return render_template("portal/report.html", scan=shown, categories=categories, form=request.form,
                           action=action)


@bp.route("/s/<scene>/praise", methods=["GET", "POST"])
def praise(scene):
    scanned = _scan(scene)
    if request.method == "POST":
        target_type, _, target_id = (request.form.get("target") or "").partition(":")
        ok, row = web.attempt(lambda: praises.praise(
            _resident(), scene=scene, target_type=target_type, target_id=int(target_id) if target_id.isdigit() else None,
            message=web.text("message", 200, multiline=True)))
        if ok:
            flash("点赞成功！您的留言将在工作人员审核后展示在点赞墙上。" if row.review_notice
                  else "点赞成功，感谢您的认可！", "success")
            return redirect(url_for("portal.praise_wall", community_id=scanned.community.id))
    return render_template("portal/praise.html", scan=scanned, form=request.form)


@bp.route("/s/<scene>/message", methods=["GET", "POST"])
def message(scene):
    scanned = _scan(scene)
    if request.method == "POST":
        def send():
            given = web.check_all(body=lambda: web.required_text("body", "请填写留言内容", multiline=True),
                                  **_person_fields())
            return contact.start_thread(_resident(), scene=scene, to_role=request.form.get("to_role", ""),
                                        body=given["body"], callback_phone=given["phone"])

        ok, thread = web.attempt(send)
        if ok:
            remember(THREADS_KEY, thread.id)
            flash(f"留言已送达{thread.to_role_label}，留言编号 {thread.tracking_no}。工作人员会在这里回复，"
                  "也可能按您留下的电话联系您；凭编号和手机号后四位可随时查看回复。", "success")
            return redirect(url_for("portal.message_thread", number=thread.tracking_no))
    roles = [(role, label) for role, label in CONTACT_ROLES.items() if any(c.role == role for c in scanned.contacts)]
    return render_template("portal/message.html", scan=scanned, roles=roles, form=request.form)


# -- tracking -----------------------------------------------------------------------------------

def remember(key: str, item_id: int) -> None:
    """What this browser has found (by number and last 4, or by filing it): it may open it again."""
    kept = [i for i in session.get(key, []) if i != item_id]
    session[key] = ([item_id] + kept)[:TRACKED_MAX]
    session.permanent = True


def _remember(case_id: int) -> None:
    remember(TRACKED_KEY, case_id)


@bp.route("/track", methods=["GET", "POST"])
def track():
    tracking_no = (request.values.get("tracking_no") or "").strip().upper()
    if request.method == "POST":
        tracking_budget_left(tracking_no)  # a 429 page once the number has had its wrong tries
        ok, found = web.attempt(tracked_case, tracking_no, request.form.get("phone_last4", ""))
        if ok and found:
            case, _actor = found
            _remember(case.id)
            return redirect(url_for("portal.tracked", tracking_no=case.tracking_no))
        if ok:
            flash(NOT_FOUND, "error")
    recent = remembered_cases(session.get(TRACKED_KEY, []))
    seen = session.get(SEEN_KEY, {})
    return render_template("portal/track.html", tracking_no=tracking_no, recent=recent,
                           news={c.id for c in recent if seen.get(str(c.id)) not in (None, c.status)},
                           labels=STATE_LABELS)


def _tracked_or_none(tracking_no: str):
    found = case_and_reporter(tracking_no)
    if found is None or found[0].id not in session.get(TRACKED_KEY, []):
        return None, None
    return found


@bp.get("/track/<tracking_no>")
def tracked(tracking_no):
    case, actor = _tracked_or_none(tracking_no)
    if case is None:
        return redirect(url_for("portal.track", tracking_no=tracking_no))
    detail = presenter.detail(cases.get_case(actor, case.id), actor)
    # What this browser last saw of the case: 我的上报 marks a case whose status has moved since (有新进展).
    session[SEEN_KEY] = {**session.get(SEEN_KEY, {}), str(case.id): detail["status"]}
    return render_template("portal/tracked.html", case=detail, form=request.form)


@bp.post("/track/<tracking_no>/<any(withdraw, reopen):action>")
def case_step(tracking_no, action):
    """The reporter withdraws a case not yet accepted, or asks to reopen one closed within the window."""
    case, actor = _tracked_or_none(tracking_no)
    if case is None:
        return redirect(url_for("portal.track", tracking_no=tracking_no))
    field = "reason" if action == "reopen" else "note"
    ok, _ = web.attempt(lambda: cases.transition(actor, case.id, action, **{field: web.text(field, multiline=True)}),
                        success="已撤回。" if action == "withdraw" else "已申请重新办理，工作人员会再次处理。")
    if ok:
        return redirect(url_for("portal.tracked", tracking_no=case.tracking_no))
    case, actor = _tracked_or_none(tracking_no)
    return render_template("portal/tracked.html", case=presenter.detail(cases.get_case(actor, case.id), actor),
                           form=request.form), 422


@bp.post("/track/<tracking_no>/rating")
def rate(tracking_no):
    case, actor = _tracked_or_none(tracking_no)
    if case is None:
        return redirect(url_for("portal.track", tracking_no=tracking_no))
    ok, _ = web.attempt(lambda: cases.rate_case(actor, case.id, score=_score(),
                                                comment=web.text("comment", 200, multiline=True)),
                        success="感谢您的评价！")
    if ok:
        return redirect(url_for("portal.tracked", tracking_no=case.tracking_no))
    case, actor = _tracked_or_none(tracking_no)  # the page again, with the choice and the comment kept
    return render_template("portal/tracked.html", case=presenter.detail(cases.get_case(actor, case.id), actor),
                           form=request.form), 422


def _score() -> int:
    score = web.number("score")
    if score is None or not 1 <= score <= 5:
        raise Invalid("请选择 1 到 5 分的评价。", errors={"score": ["1 到 5 分"]})
    return score


# -- public boards ------------------------------------------------------------------------------

@bp.get("/praise")
def praise_wall():
    community = areas.get_community(web.query_int("community_id"))
    community_id = community.id if community else None
    page = praises.list_praises(Actor.anonymous(), community_id=community_id, **web.page_args())
    ranking = praises.ranking(community_id=community_id, limit=10)
    return render_template("portal/praise_wall.html", page=page, ranking=ranking, community=community,
                           communities=areas.communities())


@bp.get("/suggestions")
def suggestion_board():
    return render_template("portal/suggestions.html", page=public_board(**web.page_args()))


@bp.get("/wishes")
def wish_pool():
    community = areas.get_community(web.query_int("community_id"))
    community_id = community.id if community else None
    return render_template("portal/wishes.html", figures=wish_board.wish_figures(community_id),
                           page=wish_board.waiting_wishes(community_id, **web.page_args()),
                           community=community, communities=areas.communities())


@bp.get("/verify")
def verify_form():
    code = (request.args.get("code") or "").strip()
    if code:
        return redirect(url_for("portal.verify", code=code))
    return render_template("portal/verify.html", result=None)


@bp.route("/proofs", methods=["GET", "POST"])
def proof_download():
    """The holder downloads an issued proof: its verification code plus the last 4 characters of their ID number.
    Asking for a proof needs who one is, which only the mini-program's WeChat sign-in knows."""
    code = (request.values.get("code") or "").strip().upper()
    if request.method == "POST":
        ok, certificate = web.attempt(certificates.certificate_for_holder, code, request.form.get("id_last4", ""))
        if ok:
            return send_file(io.BytesIO(certificates.render_pdf(certificate)), mimetype="application/pdf",
                             as_attachment=True, download_name=f"志愿服务证明-{certificate.code}.pdf")
    return render_template("portal/proofs.html", code=code)


@bp.get("/verify/<code>")
def verify(code):
    return render_template("portal/verify.html", result=certificates.verify(code))
