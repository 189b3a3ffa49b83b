"""A photo's GPS is offered back as the report's location (GCJ-02) before EXIF is stripped, and never kept."""
from __future__ import annotations

import io

from PIL import Image
from PIL.TiffImagePlugin import IFDRational

from app.geo import datum


def photo(gps: dict | None) -> bytes:
    image = Image.new("RGB", (64, 48), (40, 120, 200))
    exif = Image.Exif()
    if gps:
        exif[0x8825] = gps
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def upload(api, data: bytes):
    return api.client.post("/mp/v1/uploads", data={"file": (io.BytesIO(data), "p.jpg")}, headers=api.headers(),
                           content_type="multipart/form-data")


def test_the_photos_gps_is_offered_as_a_location_and_stripped_from_the_file(login, app):
    resident = login.resident()
    taken_at = {1: "N", 2: (IFDRational(36), IFDRational(29), IFDRational(42)),
                3: "E", 4: (IFDRational(112), IFDRational(20), IFDRational(6))}
    res = upload(resident, photo(taken_at))
    assert res.status_code == 201, res.get_json()
    body = res.get_json()
    lat, lng = datum.gcj02_to_wgs84(body["location"]["latitude"], body["location"]["longitude"])
    assert datum.distance_m(lat, lng, 36.495, 112.335) < 0.5  # 36°29'42" N, 112°20'06" E, in GCJ-02
    stored = (app.config["MEDIA_DIR"] + "/" + body["url"].split("/media/", 1)[1])
    with Image.open(stored) as kept:
        assert kept.getexif().get_ifd(0x8825) == {}   # the file itself keeps no position
    assert upload(resident, photo(None)).get_json()["location"] is None
