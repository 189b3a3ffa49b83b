"""Code images: the WeChat mini-program code (fetched once, cached on disk), the plain QR code
for camera scans, and the printable A4 sheet."""
from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

import qrcode
from flask import current_app
from qrcode.constants import ERROR_CORRECT_M
from reportlab.lib.colors import Color
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas

from app.core.errors import ServiceUnavailable
from app.core.time import local_display, utcnow
from app.wechat import WeChatError, get_wechat

WECHAT, QRCODE = "wechat", "qrcode"
FONT = "STSong-Light"


@dataclass
class CodeImage:
    data: bytes
    mimetype: str
    kind: str               # what the image really is: wechat or qrcode
    fallback: str | None    # why a plain QR code stands in for the WeChat code, if it does


@dataclass
class SheetItem:
    image: CodeImage
    community: str
    grid: str
    place: str


def portal_url(scene: str) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}/s/{scene}"


def qr_png(scene: str) -> bytes:
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=10, border=4)
    qr.add_data(portal_url(scene))
    qr.make(fit=True)
    buffer = io.BytesIO()
    qr.make_image().save(buffer, format="PNG")
    return buffer.getvalue()


def _mimetype(data: bytes) -> str:
    return "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"


def _cache_path(scene: str, page: str, env_version: str) -> Path:
    # The page and env_version are part of the name: changing the config fetches new images.
    digest = hashlib.sha256(f"{page}|{env_version}".encode()).hexdigest()[:10]
    return Path(current_app.config["MEDIA_DIR"]) / "codes" / f"{scene}-{env_version}-{digest}.img"


def wechat_code(scene: str) -> bytes:
    """The mini-program code for `scene`, from WeChat the first time and from disk afterwards."""
    page = current_app.config["WECHAT_CODE_PAGE"].lstrip("/")
    env_version = current_app.config["WECHAT_CODE_ENV_VERSION"]
    path = _cache_path(scene, page, env_version)
    if path.exists():
        return path.read_bytes()
    try:
        # WeChat can check the page only against the released version.
        data = get_wechat().wxacode_unlimited(scene, page=page, env_version=env_version,
                                              check_path=env_version == "release")
    except WeChatError as exc:
        if exc.transient:
            raise ServiceUnavailable("暂时无法连接微信生成小程序码，请稍后再试。") from exc
        raise ServiceUnavailable(
            f"微信未能生成小程序码（错误码 {exc.errcode}），请检查小程序页面与版本配置。",
            errors={"errcode": exc.errcode}) from exc
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.part")
    partial.write_bytes(data)
    partial.replace(path)  # atomic: a concurrent reader never sees half a file
    return data


def code_image(scene: str, kind: str = WECHAT) -> CodeImage:
    """The WeChat code when asked and available; in console mode, the plain QR code, labelled so."""
    if kind == QRCODE:
        return CodeImage(qr_png(scene), "image/png", QRCODE, None)
    if get_wechat().console:
        return CodeImage(qr_png(scene), "image/png", QRCODE, "wechat-console-mode")
    data = wechat_code(scene)
    return CodeImage(data, _mimetype(data), WECHAT, None)


# -- the print sheet ------------------------------------------------------------------------

COLUMNS, ROWS = 3, 4
MARGIN = 30
HEADER = 34


def _fit(text: str, size: float, width: float, minimum: float = 7) -> tuple[str, float]:
    """Shrink the font until `text` fits; below the minimum, cut it with an ellipsis."""
    while size > minimum and stringWidth(text, FONT, size) > width:
        size -= 0.5
    while len(text) > 1 and stringWidth(text, FONT, size) > width:
        text = text[:-2] + "…"
    return text, size


def sheet_pdf(items: list[SheetItem]) -> bytes:
    """An A4 sheet, twelve codes a page, each with its community, grid and place name, and cut lines."""
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    buffer = io.BytesIO()
    width, height = A4
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    pdf.setTitle("场所二维码")
    pdf.setAuthor("共治")
    cell_w = (width - 2 * MARGIN) / COLUMNS
    cell_h = (height - 2 * MARGIN - HEADER) / ROWS
    per_page = COLUMNS * ROWS
    pages = max(1, -(-len(items) // per_page))
    grey = Color(0.6, 0.6, 0.6)
    for page in range(pages):
        pdf.setFont(FONT, 14)
        pdf.drawString(MARGIN, height - MARGIN - 16, "共治 场所二维码（扫码：上报、点赞、联系）")
        pdf.setFont(FONT, 8)
        pdf.drawRightString(width - MARGIN, height - MARGIN - 16,
                            f"{local_display(utcnow())}  第 {page + 1}/{pages} 页")
        for index, item in enumerate(items[page * per_page:(page + 1) * per_page]):
            col, row = index % COLUMNS, index // COLUMNS
            x = MARGIN + col * cell_w
            y = height - MARGIN - HEADER - (row + 1) * cell_h
            pdf.setStrokeColor(grey)
            pdf.setDash(3, 3)
            pdf.rect(x, y, cell_w, cell_h)
            pdf.setDash()
            side = min(cell_w - 30, cell_h - 62)
            pdf.drawImage(ImageReader(io.BytesIO(item.image.data)), x + (cell_w - side) / 2,
                          y + cell_h - 10 - side, side, side)
            center = x + cell_w / 2
            place, size = _fit(item.place, 12, cell_w - 12)
            pdf.setFont(FONT, size)
            pdf.drawCentredString(center, y + 30, place)
            where, size = _fit(f"{item.community}／{item.grid}", 8.5, cell_w - 12)
            pdf.setFont(FONT, size)
            pdf.drawCentredString(center, y + 17, where)
            pdf.setFont(FONT, 7)
            hint = "微信扫一扫" if item.image.kind == WECHAT else "微信或手机相机扫码"
            pdf.drawCentredString(center, y + 6, hint)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()
