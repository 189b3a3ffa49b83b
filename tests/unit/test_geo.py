"""The datum conversion against reference points, and the checks an uploaded boundary must pass."""
import pytest

from app.core.errors import Invalid
from app.geo import datum, shapes

# WGS-84 -> GCJ-02 pairs computed with prcoords 1.0.2 (an independent, public-domain implementation); the
# first is the pair quoted everywhere for Tiananmen (39.910096, 116.403721).
REFERENCE = [
    ((39.908692, 116.397477), (39.91009549393981, 116.40372056710368)),   # 天安门
    ((31.239663, 121.499809), (31.237648959321493, 121.50424171854978)),  # 东方明珠
    ((38.704, 111.573), (38.70445949680937, 111.5793914335671)),          # 岢岚
    ((36.5, 112.37), (36.500244052927975, 112.3765038866863)),            # 沁源
    ((22.543096, 114.057865), (22.54037875229225, 114.06297895739921)),   # 深圳
]


@pytest.mark.parametrize(("wgs", "gcj"), REFERENCE)
def test_gcj02_matches_reference_points_both_ways(wgs, gcj):
    lat, lng = datum.wgs84_to_gcj02(*wgs)
    assert datum.distance_m(lat, lng, *gcj) < 0.01
    back = datum.gcj02_to_wgs84(*gcj)
    assert datum.distance_m(*back, *wgs) < 0.01   # the inverse is iterative: within a centimetre
    assert 100 < datum.distance_m(*wgs, *gcj) < 800  # the shift itself is hundreds of metres


def test_points_outside_china_are_not_shifted():
    assert datum.wgs84_to_gcj02(48.8584, 2.2945) == (48.8584, 2.2945)
    assert datum.gcj02_to_wgs84(35.6586, 139.7454) == (35.6586, 139.7454)


def square(x0, y0, x1, y1):
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def test_a_valid_polygon_is_read_from_a_feature_collection():
    rings = shapes.polygon_of({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": square(112.33, 36.49, 112.35, 36.51)}]})
    assert shapes.contains(rings, (112.34, 36.5))
    assert not shapes.contains(rings, (112.36, 36.5))


@pytest.mark.parametrize(("document", "message"), [
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}, "未闭合"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [3, 2], [3, 0], [0, 1], [0, 0]]]}, "自相交"),  # a bow tie
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]}, "至少要有 4 个"),
    ({"type": "Point", "coordinates": [0, 0]}, "一个面"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [200, 0], [1, 1], [0, 0]]]}, "超出经纬度范围"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]],
                                         [[1, 1], [5, 1], [5, 2], [1, 2], [1, 1]]]}, "自相交"),  # hole pokes out
])
def test_broken_polygons_are_refused_with_the_reason(document, message):
    with pytest.raises(Invalid) as caught:
        shapes.polygon_of(document)
    assert message in caught.value.args[0] or message in str(caught.value.errors)


def test_a_hole_is_outside_and_within_checks_containment():
    rings = shapes.polygon_of({"type": "Polygon", "coordinates": [
        [[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]], [[1, 1], [2, 1], [2, 2], [1, 2], [1, 1]]]})
    assert not shapes.contains(rings, (1.5, 1.5))
    assert shapes.contains(rings, (3, 3))
    outer = shapes.polygon_of(square(0, 0, 4, 4))
    assert shapes.within(shapes.polygon_of(square(0, 0, 2, 2)), outer)       # sharing two sides is fine
    assert not shapes.within(shapes.polygon_of(square(3, 3, 5, 5)), outer)
    # Every vertex inside, but an edge leaves the concave outline.
    notch = shapes.polygon_of({"type": "Polygon", "coordinates": [[[0, 0], [4, 0], [4, 4], [2, 1], [0, 4], [0, 0]]]})
    assert not shapes.within(shapes.polygon_of({"type": "Polygon", "coordinates": [
        [[0.5, 3], [0.5, 0.5], [3.5, 0.5], [3.5, 3], [0.5, 3]]]}), notch)
