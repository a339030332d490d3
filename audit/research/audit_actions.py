"""The audit actions of research governance (see docs/audit-events.md)."""

from audit.registry import register

register("research.study_saved", subject="audit.study",
         description="A program admin created or changed a study: its researchers and grants.",
         fields={"created": "True when the study was created by this change.",
                 "researchers": "The user ids of its researchers after the change.",
                 "grants": "What the study may read beyond pseudonyms: identities, free_text, "
                           "client_context (each true or false)."})
register("research.exported",
         description="A researcher downloaded a dataset: who read what, through which study.",
         fields={"dataset": "The dataset (events, submissions, decisions, ...).",
                 "format": "csv, jsonl or parquet.",
                 "study": "The study's slug the export was read through.",
                 "filters": "The filters given (since, until, action, cohort, subject_id), as "
                            "sent."})
