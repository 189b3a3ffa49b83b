"""GCJ-02, the datum every coordinate is stored in, and WGS-84 at the edges that speak it.

The mini-program's `wx.getLocation({type: "gcj02"})` and `wx.chooseLocation` give GCJ-02, so that is what
we keep. GeoJSON (RFC 7946), Open311 and exports speak WGS-84: they convert on the way in and out, here.
GCJ-02 is WGS-84 shifted by a published, smooth function over mainland China (Krasovsky 1940 ellipsoid);
outside China it is WGS-84 unchanged. The inverse has no closed form: it is found by fixed-point iteration,
to well under a centimetre.
"""
from __future__ import annotations

import math

_A = 6378245.0                      # Krasovsky 1940 semi-major axis (metres)
_EE = 0.00669342162296594323        # its first eccentricity squared
_EARTH_RADIUS = 6371008.8           # mean radius, for distances
# GCJ-02 leaves points outside this box alone (the rough outline used by every implementation).
_CHINA = (72.004, 0.8293, 137.8347, 55.8271)


def in_china(lat: float, lng: float) -> bool:
    west, south, east, north = _CHINA
    return west <= lng <= east and south <= lat <= north


def _shift_lat(x: float, y: float) -> float:
    value = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    value += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    value += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    value += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return value


def _shift_lng(x: float, y: float) -> float:
    value = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    value += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    value += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    value += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return value


def _offset(lat: float, lng: float) -> tuple[float, float]:
    """GCJ-02 minus WGS-84 at a WGS-84 point, in degrees (lat, lng)."""
    dlat = _shift_lat(lng - 105.0, lat - 35.0)
    dlng = _shift_lng(lng - 105.0, lat - 35.0)
    rad = lat / 180.0 * math.pi
    magic = 1.0 - _EE * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlng = (dlng * 180.0) / (_A / sqrt_magic * math.cos(rad) * math.pi)
    return dlat, dlng


def wgs84_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    if not in_china(lat, lng):
        return lat, lng
    dlat, dlng = _offset(lat, lng)
    return lat + dlat, lng + dlng


def gcj02_to_wgs84(lat: float, lng: float) -> tuple[float, float]:
    """The WGS-84 point whose GCJ-02 image is (lat, lng), by iteration (converges in a few steps)."""
    if not in_china(lat, lng):
        return lat, lng
    wlat, wlng = lat, lng
    for _ in range(30):
        glat, glng = wgs84_to_gcj02(wlat, wlng)
        dlat, dlng = glat - lat, glng - lng
        wlat, wlng = wlat - dlat, wlng - dlng
        if abs(dlat) < 1e-10 and abs(dlng) < 1e-10:
            break
    return wlat, wlng


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres (haversine): exact enough for 'within 50 m'."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS * math.asin(min(1.0, math.sqrt(h)))


def degrees_around(lat: float, metres: float) -> tuple[float, float]:
    """How many degrees of latitude and of longitude span `metres` at latitude `lat` (a search box)."""
    dlat = math.degrees(metres / _EARTH_RADIUS)
    dlng = dlat / max(math.cos(math.radians(lat)), 0.01)
    return dlat, dlng
