"""The scan, the hottest path: what a scanned code shows (the place, its grid and community, the people
who answer for it, what a resident can do there), counted without a write.

It joins two rules that live elsewhere: which place a scene names (app.codes.scenes) and who answers
for a place (app.contact, app.accounts.responsible). May import codes, contact, areas and core.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import null, select, union_all

from app.areas.models import PLACE_KINDS, Area, Place
from app.codes import counter
from app.codes.models import INVALID_SCENE, Code
from app.codes.scenes import check_scene, scene_names_place
from app.contact.service import CONTACT_COLUMNS, people_on, pick_contacts
from app.core.errors import NotFound
from app.core.reads import read_only_queries
from app.core.scoping import GRID_WORKER

ACTIONS = ["report", "praise", "contact"]


@dataclass(frozen=True)
class ScanPlace:
    id: int
    name: str
    kind: str
    address: str
    area_path: str

    @property
    def kind_label(self) -> str:
        return PLACE_KINDS.get(self.kind, self.kind)


@dataclass(frozen=True)
class ScanArea:
    id: int
    name: str


@dataclass
class ScanResult:
    code_id: int
    scene: str
    place: ScanPlace
    grid: ScanArea
    community: ScanArea
    contacts: list = field(default_factory=list)
    actions: list[str] = field(default_factory=lambda: list(ACTIONS))

    @property
    def praise_targets(self) -> list[dict]:
        targets = [{"target_type": "grid_worker", "target_id": c.user_id, "name": c.name}
                   for c in self.contacts if c.role == GRID_WORKER and c.user_id]
        kind = "merchant" if self.place.kind == "shop" else "place"
        targets.append({"target_type": kind, "target_id": self.place.id, "name": self.place.name})
        return targets


def scan(scene: str) -> ScanResult:
    """Resolve a scanned scene and count the scan (the count reaches the database later)."""
    result = lookup(scene)
    counter.record_scan(result.code_id)
    return result


# Built once, as one Core statement over the tables: building a statement per call, loading ORM
# objects and a second round trip for the contacts cost several times the query (bench/RESULTS.md).
# A place hangs on a grid; above it come its community, street and district (app.areas.models),
# whose contacts and grid workers the scan shows too. The answer: the place's row with no contact,
# then one row per contact, each repeating the place's columns.
_codes, _places, _areas = Code.__table__, Place.__table__, Area.__table__
_grid, _community, _street = _areas.alias("scan_grid"), _areas.alias("scan_community"), _areas.alias("scan_street")
_SCANNED = (
    select(_codes.c.id.label("code_id"), _places.c.id.label("place_id"), _places.c.name.label("place_name"),
           _places.c.kind, _places.c.address, _places.c.area_path, _grid.c.id.label("grid_id"),
           _grid.c.name.label("grid_name"), _community.c.id.label("community_id"),
           _community.c.name.label("community_name"), _street.c.id.label("street_id"),
           _street.c.parent_id.label("district_id"))
    .select_from(_codes.join(_places, _places.c.id == _codes.c.place_id)
                 .join(_grid, _grid.c.id == _places.c.grid_id)
                 .join(_community, _community.c.id == _grid.c.parent_id)
                 .join(_street, _street.c.id == _community.c.parent_id))
    .where(*scene_names_place(_codes, _places))
    .cte("scanned")
)
_PLACE_COLUMNS = [_SCANNED.c[name] for name in ("code_id", "place_id", "place_name", "kind", "address", "area_path",
                                                 "grid_id", "grid_name", "community_id", "community_name")]
_ANCESTORS = union_all(*(select(column) for column in (
    _SCANNED.c.grid_id, _SCANNED.c.community_id, _SCANNED.c.street_id, _SCANNED.c.district_id)))
_LOOKUP = union_all(
    select(*_PLACE_COLUMNS, *(null().label(name) for name in CONTACT_COLUMNS)),
    *(people.with_only_columns(*_PLACE_COLUMNS, *people.selected_columns) for people in people_on(_ANCESTORS)),
)


def lookup(scene: str) -> ScanResult:
    """One indexed query on the driver's connection: no ORM objects, no write, and outside a
    transaction no BEGIN/COMMIT either."""
    check_scene(scene)
    with read_only_queries() as run:
        rows = run(_LOOKUP, scene=scene)
    if not rows:
        raise NotFound(INVALID_SCENE)
    code_id, place_id, name, kind, address, area_path, grid_id, grid_name, community_id, community_name = rows[0][:10]
    return ScanResult(code_id=code_id, scene=scene, place=ScanPlace(place_id, name, kind, address, area_path),
                      grid=ScanArea(grid_id, grid_name), community=ScanArea(community_id, community_name),
                      contacts=pick_contacts(row[10:] for row in rows))
