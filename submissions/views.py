"""Web pages for testers: their clips, upload and generate, a clip's page; the public share
page. The media itself is served by the API's permission-checked media endpoint."""

from __future__ import annotations

from django.apps import apps
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Role
from accounts.permissions import page_for
from core.errors import DomainError
from submissions.forms import GenerateForm, UploadForm
from submissions.models import MediaKind, Submission, SubmissionStatus
from submissions.permissions import is_owner
from submissions.responses import media_response
from submissions.selectors import (
    media_policy,
    share_link_live,
    share_link_of,
    submission_timeline,
    submission_visible_to,
    submissions_visible_to,
)
from submissions.services.lifecycle import (
    submission_generate,
    submission_submit,
    submission_withdraw,
)
from submissions.services.sharing import share_create, share_revoke
from submissions.transitions import can_move

ACTIVE = {SubmissionStatus.GENERATING, SubmissionStatus.RECEIVED, SubmissionStatus.PROCESSING}


@login_required
@require_http_methods(["GET", "POST"])
@page_for(Role.TESTER, message="This page is for testers.")
def clips(request: HttpRequest) -> HttpResponse:
    generate_form = GenerateForm(request.POST or None, prefix="generate")
    status = 200
    if request.method == "POST":
        if generate_form.is_valid():
            try:
                submission = submission_generate(actor=request.user,
                                                 **generate_form.cleaned_data)
            except DomainError as error:
                for field, problems in (error.fields or {None: [error.message]}).items():
                    for problem in problems:
                        generate_form.add_error(field if field in generate_form.fields
                                                else None, problem)
                status = error.status
            else:
                messages.success(request, "The generator is rendering your clip.")
                return redirect("submissions:detail", submission.pk)
        else:
            status = 400
    submissions = list(submissions_visible_to(request.user).filter(owner=request.user)[:200])
    return render(request, "submissions/clips.html", {
        "submissions": submissions, "generate_form": generate_form,
        "upload_form": UploadForm(prefix="upload"), "policy": media_policy(),
        "refresh": any(s.status in ACTIVE for s in submissions),
    }, status=status)


# The review's inner workings, which the clip's owner does not see in its timeline: leases,
# blind second-opinion sampling, and decisions that do not decide the clip (escalations,
# second opinions).
_HIDDEN_FROM_OWNER = {"review.claimed", "review.renewed", "review.released",
                      "review.lease_expired", "review.second_opinion_requested"}


def _owner_sees(event: dict) -> bool:
    if event["action"] == "review.decided":
        return bool(event["data"].get("effective"))
    return event["action"] not in _HIDDEN_FROM_OWNER


def _gate_verdict(submission: Submission) -> dict:
    """The clip's effective decision (with its reasons' labels) and its appeal, if any.

    Decisions and appeals are the review app's rows, which depends on this app: they are read
    through their relations to the clip, and the labels through the taxonomy version the
    decision recorded (looked up by model name), so this app imports nothing from review.
    """
    decision = submission.decisions.filter(is_effective=True).first()
    appeal = getattr(submission, "appeal", None)
    if decision is None:
        return {"decision": None, "appeal": appeal}
    version = (apps.get_model("review", "TaxonomyVersion").objects
               .filter(number=decision.taxonomy_version).values_list("codes", flat=True).first())
    labels = {entry["code"]: entry["label"] for entry in version or []}
    return {"decision": decision, "appeal": appeal,
            "reason_labels": [labels.get(code, code) for code in decision.reasons]}


@login_required
def detail(request: HttpRequest, submission_id) -> HttpResponse:
    submission = submission_visible_to(request.user, submission_id)
    if submission is None:
        raise Http404
    owner = is_owner(request.user, submission)
    timeline = submission_timeline(submission)
    verdict = _gate_verdict(submission)
    return render(request, "submissions/detail.html", {
        **verdict,
        "can_appeal": (owner and submission.status == SubmissionStatus.REJECTED
                       and verdict["decision"] is not None and verdict["appeal"] is None),
        "submission": submission,
        "timeline": [event for event in timeline if _owner_sees(event)] if owner else timeline,
        "can_submit": owner and can_move("submit", submission.status),
        "can_withdraw": owner and can_move("withdraw", submission.status),
        "can_share": owner and submission.status == SubmissionStatus.APPROVED,
        "share_link": share_link_of(submission) if owner else None,
        "refresh": submission.status in ACTIVE,
        "kinds": MediaKind,
    })


_MOVES = {"submit": (submission_submit, "Submitted: the clip is queued for review."),
          "withdraw": (submission_withdraw, "Withdrawn."),
          "share": (share_create, "Your share link is ready."),
          "unshare": (share_revoke, "The share link is revoked.")}


@login_required
@require_POST
def move(request: HttpRequest, submission_id, action: str) -> HttpResponse:
    submission = submission_visible_to(request.user, submission_id)
    if submission is None or action not in _MOVES or not is_owner(request.user, submission):
        raise Http404
    service, done = _MOVES[action]
    try:
        service(actor=request.user, submission=submission)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done)
    return redirect("submissions:detail", submission.pk)


def share_page(request: HttpRequest, token: str) -> HttpResponse:
    link = share_link_live(token)
    if link is None or link.submission.status != SubmissionStatus.APPROVED:
        raise Http404
    return render(request, "submissions/share.html", {"link": link, "submission": link.submission})


def share_video(request: HttpRequest, token: str) -> HttpResponse:
    link = share_link_live(token)
    if (link is None or link.submission.status != SubmissionStatus.APPROVED
            or not link.submission.watermarked):
        raise Http404
    # Only the watermarked rendition is ever public; never the original.
    return media_response(request, link.submission.watermarked, MediaKind.WATERMARKED,
                          label=str(link.submission.pk)[:8], public=True)
