"""What every browser test checks on every page: a screenshot, no sideways overflow, no JS error, no English."""
from __future__ import annotations

import io
import re

# Identifiers that are data, not interface text: tracking numbers, usernames, certificate codes.
DATA_TOKENS = re.compile(r"(?:GZ|LY)\d{8}-[A-Z0-9]+|[a-z]+_[a-z0-9_]+|\badmin\b|\b[A-Z0-9]{6,}\b|A4|PDF|ZIP")
ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")


def tiny_jpeg(color=(190, 60, 40)) -> dict:
    """A small real JPEG (with a camera-like EXIF block) for page.set_input_files."""
    from PIL import Image

    image = Image.new("RGB", (320, 240), color)
    exif = Image.Exif()
    exif[0x010F] = "TestCam"  # Make
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85, exif=exif)
    return {"name": "scene.jpg", "mimeType": "image/jpeg", "buffer": buffer.getvalue()}


def check_page(page, shot, name: str, width: int) -> None:
    """Screenshot the page, then assert it fits the width, raised no JS error and shows no English."""
    page.wait_for_load_state("load")
    shot(f"{name}-{width}")
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{name}: page is {scroll_width}px wide at {width}px"
    assert page.js_errors == [], f"{name}: {page.js_errors}"
    visible = DATA_TOKENS.sub(" ", page.inner_text("body"))
    english = ENGLISH_WORD.findall(visible)
    assert not english, f"{name}: English shown to users: {english[:10]}"
    assert page.title().endswith("· 共治")


def console_login(page, base: str, username: str, password: str = "gongzhi-demo") -> None:
    page.goto(base + "/console/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/console/")


def shown_actions(page) -> set[str]:
    """The action forms the detail page offers (each is a <details data-action=...>)."""
    return set(page.eval_on_selector_all("#actions [data-action]", "els => els.map(e => e.dataset.action)"))
