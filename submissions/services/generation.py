"""The generator's writes: render a requested clip and turn it into a draft."""

from __future__ import annotations

import time
from uuid import UUID

from django.db import transaction

import audit
from submissions.generator import RESOLUTIONS, render_clip
from submissions.models import Submission, SubmissionStatus
from submissions.services.processing import WORKER, submission_fail_locked
from submissions.storage import delete_quietly, file_sha256, local_workdir, original_name, store
from submissions.transitions import target_of

GENERATION_FAILED = "generation.failed"


def submission_render(submission_id: UUID) -> bool:
    """Render the clip a ``generating`` submission asks for; False if there was nothing to do.

    Safe to run twice: the first render to finish wins, a later one deletes its file.
    """
    submission = Submission.objects.filter(pk=submission_id,
                                           status=SubmissionStatus.GENERATING).first()
    if submission is None:
        return False
    params = submission.generation_params
    width, height = RESOLUTIONS[params["resolution"]]
    started = time.monotonic()
    with local_workdir() as folder:
        clip = folder / "clip.mp4"
        render_clip(prompt=submission.prompt, seed=params["seed"],
                    duration_s=params["duration_s"], width=width, height=height, out_path=clip,
                    watermark_text="EARLY ACCESS · generated")
        size, sha256 = clip.stat().st_size, file_sha256(clip)
        name = store(original_name("mp4"), clip)
    try:
        with transaction.atomic():
            submission = (Submission.objects.select_for_update()
                          .filter(pk=submission_id, status=SubmissionStatus.GENERATING).first())
            if submission is None:
                delete_quietly(name)
                return False
            submission.status = target_of("finish_generation", submission.status)
            submission.original, submission.sha256, submission.size_bytes = name, sha256, size
            submission.save(update_fields=["status", "original", "sha256", "size_bytes"])
            audit.record("submission.generated", actor=WORKER, subject=submission, data={
                "size_bytes": size, "sha256": sha256,
                "render_s": round(time.monotonic() - started, 3)})
    except BaseException:
        delete_quietly(name)
        raise
    return True


def submission_render_failed(submission_id: UUID) -> None:
    """Give up on a render that kept failing: the clip is ``failed`` with a clear message."""
    with transaction.atomic():
        submission = (Submission.objects.select_for_update()
                      .filter(pk=submission_id, status=SubmissionStatus.GENERATING).first())
        if submission is not None:
            submission_fail_locked(submission, GENERATION_FAILED,
                  "The generator could not render this clip. Try again with another prompt.",
                  stage="generation")
