"""The fast read path keeps the meaning of the column types (it skips SQLAlchemy's machinery, not its types)."""
from datetime import UTC, datetime

from sqlalchemy import bindparam, select

from app.codes.models import Code
from app.core.reads import read_only_queries
from app.extensions import db

_CODE_BY_SCENE = select(Code.__table__.c.id, Code.__table__.c.created_at).where(
    Code.__table__.c.scene == bindparam("scene"))
_CREATED_SINCE = select(Code.__table__.c.id).where(Code.__table__.c.created_at >= bindparam("since"))


def test_a_utc_column_reads_back_timezone_aware_as_through_the_orm():
    code = db.session.scalars(select(Code).limit(1)).one()
    with read_only_queries() as run:
        rows = run(_CODE_BY_SCENE, scene=code.scene)
    assert rows == [(code.id, code.created_at)]
    assert rows[0][1].tzinfo is not None


def test_a_utc_parameter_is_bound_as_the_column_stores_it():
    code = db.session.scalars(select(Code).limit(1)).one()
    with read_only_queries() as run:
        ids = [row[0] for row in run(_CREATED_SINCE, since=datetime(2000, 1, 1, tzinfo=UTC))]
    assert code.id in ids
