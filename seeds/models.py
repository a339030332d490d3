"""What only the simulation knows: the truth about the clips its people made.

A real program never has this table's contents; a simulated one writes them as its testers
and outsiders make clips. It is kept apart from everything moderators read (no relation from
the clip back to it, no admin page, no API of its own) and reaches researchers only as the
``ground_truth`` dataset, to be joined to decisions by ``submission_id``.
"""

from __future__ import annotations

from django.db import models


class Origin(models.TextChoices):
    TESTER = "tester", "The tester who owns the clip"
    OUTSIDER = "outsider", "An outsider using a leaked token"


class GroundTruth(models.Model):
    """Whether a simulated clip really breaks the program's policy, and how."""

    # related_name="+": a clip has no way back to its truth, so nothing that serializes a
    # clip can reach it by accident.
    submission = models.OneToOneField("submissions.Submission", primary_key=True,
                                      on_delete=models.CASCADE, related_name="+")
    violates = models.BooleanField()
    category = models.CharField(
        max_length=48, blank=True,
        help_text="The reason code of the review taxonomy the clip truly falls under; empty "
                  "when it does not violate the policy.")
    origin = models.CharField(max_length=16, choices=Origin.choices)

    class Meta:
        verbose_name_plural = "ground truth"
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(violates=True) & ~models.Q(category=""))
                | models.Q(violates=False, category=""),
                name="seeds_ground_truth_category_iff_violating"),
        ]

    def __str__(self) -> str:
        return f"{self.submission_id}: {self.category or 'fine'} ({self.origin})"
