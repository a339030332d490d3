"""Web pages of the approval gate: the moderators' page (a shell that its script fills from
the review API, with the session and CSRF token) and the tester's appeal form."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from accounts.permissions import page_for, request_program
from core.errors import DomainError
from review.permissions import REVIEWER_ROLES
from review.services.decisions import MAX_NOTE, OUTCOMES, appeal_create
from submissions.permissions import is_owner
from submissions.selectors import submission_visible_to

# The script swaps this for a claim's id in the claim URLs it is given.
CLAIM_PLACEHOLDER = "00000000-0000-0000-0000-000000000000"


@login_required
@require_safe
@page_for(*REVIEWER_ROLES, message="This page is for moderators and program admins.")
def moderate(request: HttpRequest) -> HttpResponse:
    return render(request, "review/moderate.html", {
        "lease_seconds": request_program(request).lease_seconds,
        "claim_placeholder": CLAIM_PLACEHOLDER,
        "max_note": MAX_NOTE,
        # The outcomes each track allows, so the page offers only the legal actions.
        "outcomes": json.dumps({track.value: sorted(outcome.value for outcome in outcomes)
                                for track, outcomes in OUTCOMES.items()}),
    })


def _problems(error: DomainError) -> str:
    """The refusal in words: the field messages when the service names fields."""
    problems = [problem for field in (error.fields or {}).values() for problem in field]
    return " ".join(problems) or error.message


@login_required
@require_POST
def appeal(request: HttpRequest, submission_id) -> HttpResponse:
    """The owner appeals a rejection from the clip's page (once; the service says when not)."""
    submission = submission_visible_to(request.user, submission_id)
    if submission is None or not is_owner(request.user, submission):
        raise Http404
    try:
        appeal_create(actor=request.user, submission=submission,
                      message=request.POST.get("message", ""))
    except DomainError as error:
        messages.error(request, _problems(error))
    else:
        messages.success(request, "Appealed: a different moderator will review your clip.")
    return redirect("submissions:detail", submission.pk)
