"""The audit actions this app records (see docs/audit-events.md)."""

from audit.registry import register

_SUBJECT = "submissions.submission"

register("submission.created", subject=_SUBJECT,
         description="A tester uploaded a clip or asked the generator for one.",
         fields={"source": "upload or generated.", "cohort": "The owner's cohort slug, or null.",
                 "size_bytes": "Size of the original in bytes (null while generating).",
                 "sha256": "SHA-256 of the original (empty while generating).",
                 "generation": "The generator's parameters (prompt length, seed, duration_s, "
                               "resolution), or null for uploads."})
register("submission.generated", subject=_SUBJECT,
         description="The generator finished rendering a clip; it is now a draft.",
         fields={"size_bytes": "Size of the rendered clip.", "sha256": "Its SHA-256.",
                 "render_s": "Wall time the render took, in seconds."})
register("submission.submitted", subject=_SUBJECT,
         description="The owner submitted the clip to the approval gate.")
register("submission.processing_started", subject=_SUBJECT,
         description="A worker started processing the clip (probe, policy, renditions).",
         fields={"attempt": "1 for the first attempt; more when a worker took over."})
register("submission.processing_interrupted", subject=_SUBJECT,
         description="An attempt hit a transient fault (storage or database) and handed the clip "
                     "back to the queue; the task retries it.",
         fields={"attempt": "The interrupted attempt.", "error": "The kind of fault."})
register("submission.processed", subject=_SUBJECT,
         description="Processing succeeded; the clip entered the review queue (its queue "
                     "entry: waiting time runs from here).",
         fields={"attempt": "The attempt that succeeded.",
                 "media": "Probed facts: container, video_codec, width, height, fps, "
                          "duration_s, has_audio, audio_codec.",
                 "processing_s": "Wall time of the attempt, in seconds."})
register("submission.failed", subject=_SUBJECT,
         description="Generation or processing failed for good.",
         fields={"code": "The failure code (media.too_long, media.unreadable, ...).",
                 "stage": "generation or processing.", "attempt": "The attempt that failed."})
register("submission.requeued", subject=_SUBJECT,
         description="The sweep found a clip left waiting by a lost message or a dead worker "
                     "and queued it again.",
         fields={"status": "received or processing.",
                 "waited_s": "Seconds since the clip last made progress."})
register("submission.withdrawn", subject=_SUBJECT,
         description="The owner withdrew the clip before a decision.",
         fields={"from_status": "The status it was withdrawn from."})
register("submission.shared", subject=_SUBJECT,
         description="The owner created a public share link for an approved clip.",
         fields={"share_link_id": "The link's id (the token is not recorded)."})
register("submission.share_revoked", subject=_SUBJECT,
         description="A share link was revoked; the public page answers 404 from now on.",
         fields={"share_link_id": "The link's id."})
