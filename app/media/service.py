"""Accept an image only after decoding it; store a clean re-encoding and a thumbnail.

Re-encoding from pixels drops EXIF (GPS included), ICC tricks and anything appended after
the image data, so a polyglot cannot survive even if it slipped past the checks.
"""
from __future__ import annotations

import hashlib
import io
import re
import secrets
import warnings
from pathlib import Path

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select

from app import jobs
from app.accounts.models import User
from app.core.errors import Forbidden, Invalid, NotFound, PayloadTooLarge
from app.core.scoping import Actor
from app.core.time import to_local, utcnow
from app.extensions import db
from app.geo.exif import photo_point
from app.media import checks
from app.media.models import Upload

MAX_SIDE = 4096
THUMB_SIDE = 320
MAX_PIXELS = 50_000_000  # a decoded image above this is treated as a decompression bomb
MAX_PHOTOS = 9
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}
# Markers of other file types hidden inside an image (polyglots): scripts, markup, archives.
# Compressed pixels are close to random bytes, so each signature is long enough (or anchored by
# what must follow it) never to turn up there by chance; 4-byte markers did in ~2 % of photos.
SUSPICIOUS = re.compile(
    rb"<script|<\?php\s|<html[\s>]|<svg[\s>/]|<!doctype\s"
    rb"|PK\x03\x04[\x0a\x14\x2d\x33\x3f]\x00|%PDF-\d\.\d|MZ\x90\x00\x03\x00\x00\x00",
    re.IGNORECASE,
)


def save_upload(actor: Actor, data: bytes, filename: str = "") -> Upload:
    limit = current_app.config["UPLOAD_MAX_BYTES"]
    if len(data) > limit:
        raise PayloadTooLarge(f"图片过大（{len(data) / (1024 * 1024):.1f} MB），每张不能超过 {limit // (1024 * 1024)} MB。")
    if not data:
        raise Invalid("没有收到文件。", errors={"file": ["文件为空。"]})
    image = _decode(data)
    point = photo_point(data)  # read before re-encoding drops EXIF; offered back once, never stored
    clean, content_type, ext = _reencode(image)
    thumb = _thumbnail(image)

    day = to_local(utcnow()).strftime("%Y/%m/%d")
    name = secrets.token_hex(16)
    path = f"{day}/{name}.{ext}"
    thumb_path = f"{day}/{name}_t.jpg"
    root = Path(current_app.config["MEDIA_DIR"])
    (root / day).mkdir(parents=True, exist_ok=True)
    (root / path).write_bytes(clean)
    (root / thumb_path).write_bytes(thumb)

    upload = Upload(owner_id=actor.user_id, path=path, thumb_path=thumb_path, content_type=content_type,
                    width=image.width, height=image.height, size=len(clean),
                    sha256=hashlib.sha256(clean).hexdigest())
    db.session.add(upload)
    db.session.flush()
    author = db.session.get(User, actor.user_id) if actor.user_id else None
    checks.submit(upload, author.openid if author else None)
    upload.photo_location = {"latitude": point[0], "longitude": point[1]} if point else None
    return upload


def _decode(data: bytes) -> Image.Image:
    if SUSPICIOUS.search(data):
        raise Invalid("文件内容可疑（图片中夹带了其他类型的数据），请上传普通照片。", errors={"file": ["可疑文件"]})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            if probe.format not in FORMATS:
                raise Invalid("只支持 JPEG、PNG、WEBP、GIF 图片。", errors={"file": ["格式不支持"]})
            if probe.width * probe.height > MAX_PIXELS:
                raise Invalid("图片像素过多，无法处理。", errors={"file": ["像素过多"]})
            probe.verify()  # structural check; the image must be reopened after verify()
            image = Image.open(io.BytesIO(data))
            image.load()  # a truncated file fails here
    except Invalid:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise Invalid("图片像素过多，无法处理。", errors={"file": ["像素过多"]}) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise Invalid("文件不是有效的图片，或图片已损坏。", errors={"file": ["无法识别的图片"]}) from exc
    image = ImageOps.exif_transpose(image)  # keep the photo upright once EXIF is gone
    if max(image.size) > MAX_SIDE:
        image.thumbnail((MAX_SIDE, MAX_SIDE))
    return image


def _reencode(image: Image.Image) -> tuple[bytes, str, str]:
    buffer = io.BytesIO()
    if image.mode in ("RGBA", "LA", "P") and "transparency" in image.info or image.mode in ("RGBA", "LA"):
        image.convert("RGBA").save(buffer, "PNG", optimize=True)
        return buffer.getvalue(), "image/png", "png"
    image.convert("RGB").save(buffer, "JPEG", quality=85, optimize=True)
    return buffer.getvalue(), "image/jpeg", "jpg"


def _thumbnail(image: Image.Image) -> bytes:
    thumb = image.convert("RGB")
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE))
    buffer = io.BytesIO()
    thumb.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def resolve_photos(actor: Actor, photo_ids: list[int] | None, *, area_path: str) -> list[Upload]:
    """The caller's own uploads, in the order given; at most nine. They are used by a record in
    `area_path`, whose reviewers decide on any image the checks hold (app/media/checks.py)."""
    ids = list(dict.fromkeys(photo_ids or []))
    if len(ids) > MAX_PHOTOS:
        raise Invalid(f"最多上传 {MAX_PHOTOS} 张照片。", errors={"photo_ids": [f"最多 {MAX_PHOTOS} 张"]})
    if not ids:
        return []
    found = {u.id: u for u in db.session.scalars(select(Upload).where(Upload.id.in_(ids)))}
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound("照片不存在，请重新上传。", errors={"photo_ids": missing})
    if any(u.owner_id != actor.user_id for u in found.values()):
        raise Forbidden("只能使用自己上传的照片。")
    uploads = [found[i] for i in ids]
    checks.claim(uploads, area_path)
    return uploads


def photo_refs(uploads: list[Upload]) -> list[dict]:
    """What a record keeps of its photos (timeline attachments, JSON columns); the uploads are claimed now."""
    now = utcnow()
    for upload in uploads:
        upload.claimed_at = upload.claimed_at or now
    return [{"id": u.id, "url": u.url, "thumb_url": u.thumb_url} for u in uploads]


def uploads_by_ids(ids: list[int]) -> list[Upload]:
    return list(db.session.scalars(select(Upload).where(Upload.id.in_(ids)))) if ids else []


def forget_uploads(uploads: list[Upload]) -> int:
    """Delete these uploads; their files go once the deletion is committed (a rollback keeps both)."""
    if not uploads:
        return 0
    paths = [p for u in uploads for p in (u.path, u.thumb_path)]
    for upload in uploads:
        db.session.delete(upload)
    jobs.after_commit("tasks.media.remove_files", current_app.config["MEDIA_DIR"], paths)
    return len(uploads)


def remove_files(media_dir: str, paths: list[str]) -> None:
    """Remove stored images (a job: takes the directory, needs no app). A file already gone is fine."""
    root = Path(media_dir).resolve()
    for path in paths:
        target = (root / path).resolve()
        if target.is_relative_to(root):
            target.unlink(missing_ok=True)
