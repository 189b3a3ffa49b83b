"""Jobs for stored images."""
from __future__ import annotations

from app.media import service
from tasks import job


@job
def remove_files(media_dir: str, paths: list[str]) -> None:
    """Remove image files once the deletion of their rows is committed (a rollback keeps both)."""
    service.remove_files(media_dir, paths)
