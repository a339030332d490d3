"""Where clip files live: Django's storage API, so web servers and workers share it.

Names are generated here and never derived from a client's filename. Workers copy an object
to a local temporary file for PyAV (which needs a path) and remove it afterwards.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import storages

from core import clock

EXTENSIONS = {"mp4": ".mp4", "mov": ".mov", "mkv": ".mkv", "webm": ".webm"}


def media_storage():
    return storages["default"]


def original_name(kind: str) -> str:
    moment = clock.now()
    return f"originals/{moment:%Y/%m}/{uuid.uuid4().hex}{EXTENSIONS.get(kind, '.bin')}"


def rendition_name(submission_id: uuid.UUID, attempt: int, filename: str) -> str:
    # One folder per attempt: a stale worker's late files can never mix with the live set.
    return f"renditions/{submission_id}/{attempt}/{filename}"


class _LocalFile(File):
    """A file on local disk: a local storage on the same disk moves it instead of copying."""

    def temporary_file_path(self) -> str:
        return self.name


def store(name: str, path: Path) -> str:
    """Save a local file under ``name`` (the file is moved when the storage is on the same
    disk, so callers must not rely on it afterwards); returns the name the storage used."""
    with path.open("rb") as handle:
        return media_storage().save(name, _LocalFile(handle, name=str(path)))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def delete_quietly(*names: str) -> None:
    storage = media_storage()
    for name in names:
        if name:
            storage.delete(name)


def scratch_dir() -> Path:
    """Local scratch space for uploads in flight and worker files (same disk as media when
    media is on local disk, so finishing an upload is a rename, not a copy)."""
    path = Path(settings.MEDIA_SCRATCH_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def local_workdir() -> Iterator[Path]:
    """A private temporary folder that is removed with everything in it, whatever happens."""
    folder = Path(tempfile.mkdtemp(prefix="clip-", dir=scratch_dir()))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def fetch_to(name: str, destination: Path) -> Path:
    """Copy a stored object to a local file (PyAV reads paths, not storage objects)."""
    with media_storage().open(name, "rb") as source, destination.open("wb") as target:
        shutil.copyfileobj(source, target, length=1024 * 1024)
    return destination
