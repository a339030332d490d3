"""Fixtures for clips (the clip files and eager tasks are in tests/conftest.py)."""

import hashlib
from pathlib import Path

import pytest

from tests.conftest import api_routes


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()




# --- Given-state for the API, lifecycle, processing and page tests ----------------------------


class MediaDirs:
    """A test's own media root and scratch dir, and what is in them."""

    def __init__(self, root: Path, scratch: Path) -> None:
        self.root, self.scratch = root, scratch

    def stored(self) -> list[str]:
        """Every file the media storage holds, by storage name."""
        return sorted(str(p.relative_to(self.root)) for p in self.root.rglob("*") if p.is_file())

    def leftovers(self) -> list[str]:
        """Everything left in the scratch dir (files and folders)."""
        if not self.scratch.exists():
            return []
        return sorted(str(p.relative_to(self.scratch)) for p in self.scratch.rglob("*"))


@pytest.fixture
def media_dirs(settings, tmp_path) -> MediaDirs:
    """Point MEDIA_ROOT and MEDIA_SCRATCH_DIR at empty folders for this test only."""
    root, scratch = tmp_path / "media", tmp_path / "scratch"
    root.mkdir()
    settings.MEDIA_ROOT = root  # FileSystemStorage forgets its cached location on change
    settings.MEDIA_SCRATCH_DIR = scratch
    return MediaDirs(root, scratch)


@pytest.fixture
def make_clip(db, media_dirs):
    """``make_clip(owner, status, original=path, **fields)``: a Submission row written directly
    (no audit event), with ``path`` stored as its original when given."""
    from django.core.files.base import ContentFile

    from core import clock
    from submissions.models import Source, Submission
    from submissions.storage import media_storage, original_name

    def make(owner, status="received", *, original: Path | None = None, **fields):
        values = {"prompt": "a red fox at dawn", "source": Source.UPLOAD,
                  "created_at": clock.now(), "cohort": owner.cohort}
        if original is not None:
            # A copy of the bytes: storage.store() may move a local file, and ``original``
            # is a session fixture other tests read too.
            content = original.read_bytes()
            values.update(original=media_storage().save(original_name("mp4"),
                                                        ContentFile(content)),
                          sha256=sha256_of(original), size_bytes=len(content))
        values.update(fields)
        return Submission.objects.create(owner=owner, status=status, **values)

    return make


@pytest.fixture
def set_program(db):
    """``set_program(**fields)``: write the program row's switch or policy directly."""
    from accounts.models import Program
    from accounts.selectors import program_get

    def update(**fields) -> None:
        program_get()
        Program.objects.filter(pk=Program.SINGLETON_ID).update(**fields)

    return update


@pytest.fixture
def submissions_state(db, media_dirs):
    """``submissions_state()``: everything a submissions request may change (clips, share
    links, the audit log, stored and scratch files), to compare before and after a refusal."""
    from audit.models import Event
    from submissions.models import ShareLink, Submission

    def snapshot() -> dict:
        return {
            "submissions": list(Submission.objects.order_by("pk").values()),
            "share_links": list(ShareLink.objects.order_by("pk").values()),
            "events": list(Event.objects.order_by("id").values_list("id", "action")),
            "stored": media_dirs.stored(),
            "scratch": media_dirs.leftovers(),
        }

    return snapshot


@pytest.fixture
def submissions_api_routes():
    return api_routes("submissions.urls_api")
