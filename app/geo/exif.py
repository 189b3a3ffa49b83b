"""The place a photo was taken, read from its EXIF GPS block before the upload strips it, so that the resident
can be offered it as the report's location (it is handed back once, never stored)."""
from __future__ import annotations

import io

from PIL import Image

from app.geo import datum

GPS_IFD = 0x8825
LAT_REF, LAT, LNG_REF, LNG = 1, 2, 3, 4


def _degrees(value) -> float:
    d, m, s = (float(part) for part in value)
    return d + m / 60.0 + s / 3600.0


def photo_point(data: bytes) -> tuple[float, float] | None:
    """The photo's GPS position in GCJ-02 (cameras record WGS-84), or None when it has none or it is unreadable."""
    try:
        gps = Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD)
        if not gps or LAT not in gps or LNG not in gps:
            return None
        lat, lng = _degrees(gps[LAT]), _degrees(gps[LNG])
    except (OSError, ValueError, TypeError, ZeroDivisionError, SyntaxError):
        return None
    if str(gps.get(LAT_REF, "N")).upper().startswith("S"):
        lat = -lat
    if str(gps.get(LNG_REF, "E")).upper().startswith("W"):
        lng = -lng
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lng <= 180.0) or (lat == 0.0 and lng == 0.0):
        return None
    return datum.wgs84_to_gcj02(lat, lng)
