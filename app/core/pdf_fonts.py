"""The CJK font every PDF of the project uses (proofs, the 双报告): embedded as a subset, so a PDF reads the
same on any phone or at any print shop (`pdffonts` shows `emb yes`)."""
from __future__ import annotations

import os

from flask import current_app
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont

FONT = "GongzhiCJK"
# Installed by .ci/run and the README (Debian fonts-wqy-microhei); CJK_FONT_PATH overrides.
FONT_FILES = ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
FALLBACK_FONT = "STSong-Light"  # a viewer-supplied CID font: readable, but not embedded


def cjk_font() -> str:
    """Register the embeddable CJK font once; without one installed, fall back to the CID font."""
    registered = pdfmetrics.getRegisteredFontNames()
    if FONT in registered:
        return FONT
    configured = current_app.config.get("CJK_FONT_PATH")
    for path in ([configured] if configured else []) + list(FONT_FILES):
        if path and os.path.exists(path):
            pdfmetrics.registerFont(TTFont(FONT, path, subfontIndex=0))
            return FONT
    current_app.logger.warning("no CJK TrueType font found (apt-get install fonts-wqy-microhei): "
                               "PDFs use %s, which is not embedded", FALLBACK_FONT)
    if FALLBACK_FONT not in registered:
        pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_FONT))
    return FALLBACK_FONT
