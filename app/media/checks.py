"""Image safety: every upload is sent to WeChat's mediaCheckAsync (v2); its result, pushed back to us later,
passes the image, hides a risky one at once, or holds it for the reviewers.

Every image here is seen by someone other than its author (the staff who handle a report, the party
member who takes a wish, …), so every one is checked. The outcomes:

- pass: nothing changes;
- risky: the files leave MEDIA_DIR for QUARANTINE_DIR at once, so the public address stops answering,
  and the image waits in the moderation queue as hidden (staff may release a false alarm);
- review, or unchecked (no openid, as on the web portal; console mode; WeChat could not be asked):
  it waits in the moderation queue of the area whose record uses it. None of our public places
  (praise wall, suggestion board, wish pool) shows images, so the hold is what staff act on.

A result is applied once per trace_id: WeChat retries a push it thinks failed, and a replay changes nothing.
"""
from __future__ import annotations

import logging
import shutil
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from app.content_safety.policy import UNCHECKED, WECHAT, Verdict
from app.core.scoping import Actor
from app.extensions import db
from app.media.models import Upload
from app.moderation import service as moderation
from app.moderation.models import HIDDEN
from app.wechat import WeChatError, get_wechat

log = logging.getLogger("gongzhi.media")

PENDING, PASS, REVIEW, RISKY = "pending", "pass", "review", "risky"
IMAGE_SCENE = 2  # mediaCheckAsync scene: 评论 (images attached to what a resident writes)
HELD_CHECKS = (REVIEW, UNCHECKED)


def submit(upload: Upload, openid: str | None) -> None:
    """Ask WeChat to check a new upload; without an answer it waits for the reviewers."""
    url = current_app.config["PUBLIC_BASE_URL"] + upload.url
    try:
        trace_id = get_wechat().media_check_async(openid, url, IMAGE_SCENE)
    except WeChatError as exc:
        log.warning("media_check_async failed (%s); the image waits for staff review", exc)
        trace_id = None
    upload.check, upload.trace_id = (PENDING, trace_id) if trace_id else (UNCHECKED, None)


def claim(uploads: list[Upload], area_path: str) -> None:
    """A record (a report, a wish, …) in `area_path` uses these images: their reviewers are that area's."""
    for upload in uploads:
        if upload.area_path is None:
            upload.area_path = area_path
        _hold_if_needed(upload)


def apply_result(event: dict) -> bool:
    """A pushed `wxa_media_check` result; returns whether it changed anything (False for a replay)."""
    trace_id = event.get("trace_id")
    result = event.get("result") or {}
    suggest = result.get("suggest")
    if not trace_id or suggest not in (PASS, REVIEW, RISKY):
        return False
    upload = db.session.scalar(select(Upload).where(Upload.trace_id == trace_id).with_for_update())
    if upload is None or upload.check != PENDING:
        return False  # unknown, or already applied (WeChat retries pushes)
    upload.check = suggest
    label = _int(result.get("label"))
    if suggest == RISKY:
        _quarantine(upload)
    _hold_if_needed(upload, label=label)
    db.session.flush()
    return True


def _hold_if_needed(upload: Upload, label: int | None = None) -> None:
    if upload.area_path is None or upload.check not in (*HELD_CHECKS, RISKY):
        return
    if moderation.hold_of("image", upload.id) is not None:
        return
    source = UNCHECKED if upload.check == UNCHECKED else WECHAT
    suggest = "" if upload.check == UNCHECKED else upload.check
    row = moderation.hold(Verdict("image", "hold", source, suggest, label), upload.id, area_path=upload.area_path,
                          author_id=upload.owner_id, text=upload.url)
    if upload.check == RISKY:
        row.status = HIDDEN  # already out of sight; a reviewer may release a false alarm


def _files(upload: Upload) -> list[str]:
    return [upload.path, upload.thumb_path]


def _quarantine(upload: Upload) -> None:
    _move(upload, current_app.config["MEDIA_DIR"], current_app.config["QUARANTINE_DIR"])


def _restore(upload: Upload) -> None:
    _move(upload, current_app.config["QUARANTINE_DIR"], current_app.config["MEDIA_DIR"])


def _move(upload: Upload, source_dir: str, target_dir: str) -> None:
    for name in _files(upload):
        source, target = Path(source_dir) / name, Path(target_dir) / name
        if source.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(source), str(target))


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# -- the reviewers' decisions -----------------------------------------------------------------------

def _held_subject(upload_id: int) -> moderation.Subject | None:
    upload = db.session.get(Upload, upload_id)
    if upload is None or upload.area_path is None:
        return None
    return moderation.Subject(area_path=upload.area_path, author_id=upload.owner_id, text=upload.url)


def _released(upload_id: int, _actor: Actor) -> None:
    upload = db.session.get(Upload, upload_id)
    _restore(upload)
    upload.check = PASS


def _hidden(upload_id: int, _actor: Actor) -> None:
    upload = db.session.get(Upload, upload_id)
    _quarantine(upload)
    upload.check = RISKY


moderation.register("image", _held_subject, on_release=_released, on_hide=_hidden)
