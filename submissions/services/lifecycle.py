"""Creating clips and the owner's moves: upload, generate, submit, withdraw."""

from __future__ import annotations

import secrets
from uuid import UUID

from django.db import transaction

import audit
from accounts.models import User
from accounts.services.program import program_require_accepting_clips
from core import clock
from core.errors import InvalidInput
from submissions.errors import UnsupportedMedia
from submissions.media import MediaError, sniff
from submissions.models import Source, Submission, SubmissionStatus
from submissions.services.processing import submission_enqueue
from submissions.storage import delete_quietly, original_name, store
from submissions.transitions import target_of
from submissions.uploads import ReceivedFile

MAX_PROMPT = 2000
MAX_TITLE = 200
GENERATION_RESOLUTIONS = ("480p", "720p", "1080p")
MAX_GENERATION_S = 10


def _clean_text(prompt: str, title: str) -> tuple[str, str]:
    prompt, title = (prompt or "").strip(), (title or "").strip()
    errors: dict[str, list[str]] = {}
    if not prompt:
        errors["prompt"] = ["Describe the clip: the prompt is required."]
    elif len(prompt) > MAX_PROMPT:
        errors["prompt"] = [f"At most {MAX_PROMPT} characters."]
    if len(title) > MAX_TITLE:
        errors["title"] = [f"At most {MAX_TITLE} characters."]
    if errors:
        raise InvalidInput(fields=errors)
    return prompt, title


def submission_upload(
    *, actor: User, upload: ReceivedFile, prompt: str, title: str = "", submit: bool = True
) -> Submission:
    """Store an uploaded clip and create its submission (``received``, or ``draft``).

    The file is sniffed from its first bytes: what is plainly not a video is refused here,
    before any worker time is spent. The scratch file is consumed either way.
    """
    try:
        program_require_accepting_clips()
        prompt, title = _clean_text(prompt, title)
        if upload.size == 0:
            raise UnsupportedMedia("The file is empty.")
        try:
            kind = sniff(upload.head)
        except MediaError as error:
            raise UnsupportedMedia(error.message) from None
        name = store(original_name(kind), upload.path)
    finally:
        upload.discard()

    now = clock.now()
    try:
        with transaction.atomic():
            submission = Submission.objects.create(
                owner=actor, cohort=actor.cohort, title=title, prompt=prompt,
                source=Source.UPLOAD, original=name, sha256=upload.sha256,
                size_bytes=upload.size, created_at=now,
                status=SubmissionStatus.RECEIVED if submit else SubmissionStatus.DRAFT,
                submitted_at=now if submit else None,
            )
            audit.record("submission.created", actor=actor, subject=submission, data={
                "source": Source.UPLOAD, "cohort": actor.cohort.slug if actor.cohort else None,
                "size_bytes": upload.size, "sha256": upload.sha256, "generation": None})
            if submit:
                audit.record("submission.submitted", actor=actor, subject=submission)
                submission_enqueue(submission)
    except BaseException:
        delete_quietly(name)
        raise
    return submission


def submission_generate(
    *, actor: User, prompt: str, duration_s: float, resolution: str, seed: int | None,
    title: str = "",
) -> Submission:
    """Ask the generator for a clip; it becomes a ``draft`` when the render is done."""
    program_require_accepting_clips()
    prompt, title = _clean_text(prompt, title)
    errors: dict[str, list[str]] = {}
    if resolution not in GENERATION_RESOLUTIONS:
        errors["resolution"] = [f"Choose one of {', '.join(GENERATION_RESOLUTIONS)}."]
    if not 0 < duration_s <= MAX_GENERATION_S:
        errors["duration_s"] = [f"More than 0 and at most {MAX_GENERATION_S} seconds."]
    if errors:
        raise InvalidInput(fields=errors)
    seed = seed if seed is not None else secrets.randbelow(2**31)
    params = {"seed": seed, "duration_s": duration_s, "resolution": resolution}
    with transaction.atomic():
        submission = Submission.objects.create(
            owner=actor, cohort=actor.cohort, title=title, prompt=prompt,
            source=Source.GENERATED, generation_params=params,
            status=SubmissionStatus.GENERATING, created_at=clock.now(),
        )
        audit.record("submission.created", actor=actor, subject=submission, data={
            "source": Source.GENERATED, "cohort": actor.cohort.slug if actor.cohort else None,
            "size_bytes": None, "sha256": "",
            "generation": {**params, "prompt_chars": len(prompt)}})
        from submissions.tasks import submission_render

        submission_id = str(submission.pk)
        transaction.on_commit(lambda: submission_render.delay(submission_id))
    return submission


def _locked(submission_id: UUID) -> Submission:
    return Submission.objects.select_for_update().get(pk=submission_id)


def submission_submit(*, actor: User, submission: Submission) -> Submission:
    program_require_accepting_clips()
    with transaction.atomic():
        submission = _locked(submission.pk)
        submission.status = target_of("submit", submission.status)
        submission.submitted_at = clock.now()
        submission.save(update_fields=["status", "submitted_at"])
        audit.record("submission.submitted", actor=actor, subject=submission)
        submission_enqueue(submission)
    return submission


def submission_withdraw(*, actor: User, submission: Submission) -> Submission:
    """Withdraw a clip at any time before a decision; later, 409."""
    with transaction.atomic():
        submission = _locked(submission.pk)
        previous = submission.status
        submission.status = target_of("withdraw", previous)
        submission.withdrawn_at = clock.now()
        submission.save(update_fields=["status", "withdrawn_at"])
        audit.record("submission.withdrawn", actor=actor, subject=submission,
                     data={"from_status": previous})
    return submission

