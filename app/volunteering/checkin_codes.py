"""Check-in codes that prove presence: a code that changes every minute, signed with its minute, and the
printed fallback code an organiser may enable; plus the distance from the activity's place."""
from __future__ import annotations

import base64
import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app

from app.core.errors import Invalid
from app.core.time import utcnow
from app.volunteering.models import Activity

STEP_SECONDS = 60
# A code is accepted in its own minute and one step either side (clock skew between the organiser's
# screen, the app nodes and the scan): a photo of it passed round a group chat stops working within two minutes.
SKEW_STEPS = 1
SIGNATURE_CHARS = 10
EARTH_RADIUS_M = 6_371_008.8

CODE, FALLBACK, MANUAL = "code", "fallback", "manual"
METHOD_LABELS = {CODE: "动态签到码", FALLBACK: "纸质备用码", MANUAL: "组织方登记"}


@dataclass(frozen=True)
class RotatingCode:
    code: str
    step: int
    expires_at: datetime

    @property
    def seconds_left(self) -> int:
        return max(1, math.ceil((self.expires_at - utcnow()).total_seconds()))


def _step(at: datetime) -> int:
    return int(at.timestamp()) // STEP_SECONDS


def _signature(activity: Activity, step: int) -> str:
    key = ("gongzhi-check-in:" + current_app.config["SECRET_KEY"]).encode()
    # The activity's scene is part of the message: a new scene (a reprinted code) retires every old code too.
    digest = hmac.new(key, f"{activity.id}:{activity.scene}:{step}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode()[:SIGNATURE_CHARS]


def current_code(activity: Activity, at: datetime | None = None) -> RotatingCode:
    """The code the organiser shows now (its QR carries the same text); it changes every minute."""
    step = _step(at or utcnow())
    return RotatingCode(code=f"{step}.{_signature(activity, step)}", step=step,
                        expires_at=datetime.fromtimestamp((step + 1) * STEP_SECONDS, UTC))


def accept(activity: Activity, presented: str, at: datetime | None = None) -> str:
    """How a presented code checks someone in (CODE or FALLBACK), or a clear refusal."""
    presented = (presented or "").strip()
    if hmac.compare_digest(presented, activity.scene):
        if not activity.fallback_code_enabled:
            raise Invalid("该活动未启用纸质备用签到码，请扫描组织方现场展示的动态签到码。",
                          errors={"scene": ["未启用备用码"]})
        return FALLBACK
    step_text, _, signature = presented.partition(".")
    if not step_text.isdigit() or not hmac.compare_digest(signature.upper(), _signature(activity, int(step_text))):
        raise Invalid("签到码不正确，请扫描活动现场的签到码。", errors={"scene": ["与该活动不符"]})
    age = _step(at or utcnow()) - int(step_text)
    if age > SKEW_STEPS:
        raise Invalid("签到码已过期（现场签到码每分钟更换），请扫描组织方现场展示的最新签到码。",
                      errors={"scene": ["签到码已过期"]})
    if age < -SKEW_STEPS:
        raise Invalid("签到码不正确，请扫描活动现场的签到码。", errors={"scene": ["与该活动不符"]})
    return CODE


def has_place(activity: Activity) -> bool:
    return None not in (activity.place_lat, activity.place_lng, activity.place_radius_m)


def distance_m(activity: Activity, lat: float, lng: float) -> int:
    """Great-circle distance from the activity's place; both points in GCJ-02, so no datum shift is needed
    at the scale of a radius (the offset between the two points of one datum is what matters)."""
    lat1, lng1 = math.radians(float(activity.place_lat)), math.radians(float(activity.place_lng))
    lat2, lng2 = math.radians(lat), math.radians(lng)
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2)
    return round(2 * EARTH_RADIUS_M * math.asin(math.sqrt(h)))
