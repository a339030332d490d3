"""Web pages: sign in and out, redeem an invitation, home per role, the program admin page."""

from __future__ import annotations

import math

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from accounts.forms import (
    InvitationForm,
    ProgramSwitchForm,
    RedeemForm,
    ReviewPolicyForm,
    SignInForm,
    TokenWatchPolicyForm,
)
from accounts.models import Role, User
from accounts.permissions import has_role, page_for
from accounts.selectors import (
    api_token_of,
    cohorts_with_size,
    invitations_list,
    program_get,
    terms_version_accepted,
    token_anomalies_recent,
)
from accounts.services.auth import (
    auth_authenticate,
    sign_out_record,
    token_issue,
    token_revoke,
    token_revoke_of,
)
from accounts.services.invitations import invitation_create, invitation_redeem, invitation_revoke
from accounts.services.program import (
    program_pause,
    program_policy_update,
    program_resume,
    program_suspend,
)
from accounts.throttles import RedeemThrottle, SignInThrottle, throttle_wait
from core import clock
from core.errors import DomainError
from core.request import request_context


def _form_error(form, error: DomainError) -> None:
    """Put a service's refusal on the form: on its fields if it names them."""
    if error.fields:
        for name, problems in error.fields.items():
            for problem in problems:
                form.add_error(name if name in form.fields else None, problem)
    else:
        form.add_error(None, error.message)


def _throttled(form, wait: float) -> None:
    form.add_error(None, f"Too many attempts; try again in {math.ceil(wait)} seconds.")


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        next_url = ""
    form = SignInForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        wait = throttle_wait(SignInThrottle, request)
        if wait is not None:
            _throttled(form, wait)
            status = 429
        else:
            try:
                user = auth_authenticate(**form.cleaned_data, method="session",
                                         context=request_context(request))
            except DomainError as error:
                _form_error(form, error)
                status = 400
            else:
                login(request, user)
                return redirect(next_url or "home")
    elif request.method == "POST":
        status = 400
    return render(request, "accounts/sign_in.html", {"form": form, "next": next_url},
                  status=status)


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        sign_out_record(actor=request.user)
    logout(request)
    messages.info(request, "You are signed out.")
    return redirect("accounts:sign_in")


@require_http_methods(["GET", "POST"])
def redeem(request: HttpRequest, code: str = "") -> HttpResponse:
    form = RedeemForm(request.POST or None, initial={"code": code})
    status = 200
    if request.method == "POST" and form.is_valid():
        wait = throttle_wait(RedeemThrottle, request)
        if wait is not None:
            _throttled(form, wait)
            status = 429
        else:
            try:
                user, _token = invitation_redeem(**form.cleaned_data,
                                                 context=request_context(request))
            except DomainError as error:
                _form_error(form, error)
                status = 400
            else:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                messages.success(request, f"Welcome to the program, {user.username}.")
                return redirect("home")
    elif request.method == "POST":
        status = 400
    return render(request, "accounts/redeem.html",
                  {"form": form, "code_given": bool(code), "terms": program_get()},
                  status=status)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    return render(request, "accounts/home.html", {
        "roles": sorted(user.roles),
        "is_tester": has_role(user, Role.TESTER),
        "is_moderator": has_role(user, Role.MODERATOR),
        "is_researcher": has_role(user, Role.RESEARCHER),
        "is_program_admin": has_role(user, Role.PROGRAM_ADMIN),
        "terms_version_accepted": terms_version_accepted(user),
        "token": api_token_of(user),
        "cohorts": cohorts_with_size() if has_role(user, Role.RESEARCHER) else None,
    })


@login_required
@require_POST
def api_token(request: HttpRequest) -> HttpResponse:
    if request.POST.get("command") == "revoke":
        token_revoke(actor=request.user, via="web")
        messages.info(request, "Your API token is revoked; scripts using it stop working.")
    else:
        token_issue(actor=request.user, via="web")
        messages.success(request, "Your API token is ready.")
    return redirect("home")


program_admins_only = page_for(Role.PROGRAM_ADMIN, message="This page is for program admins.")


_SWITCH = {"pause": program_pause, "suspend": program_suspend, "resume": program_resume}


def _save_policy(request: HttpRequest, form: TokenWatchPolicyForm | ReviewPolicyForm,
                 saved: str) -> int | None:
    """Save a policy form (its ``policy()``) through ``program_policy_update``: None once
    saved (the caller redirects), else the status to answer with the form and its errors."""
    if not form.is_valid():
        return 400
    try:
        program_policy_update(actor=request.user, **form.policy())
    except DomainError as error:
        _form_error(form, error)
        return error.status
    messages.success(request, saved)
    return None


@login_required
@require_http_methods(["GET", "POST"])
@program_admins_only
def program_admin(request: HttpRequest) -> HttpResponse:
    switch_form = ProgramSwitchForm(prefix="switch")
    invitation_form = InvitationForm(prefix="invite")
    program = program_get()
    policy_form = TokenWatchPolicyForm(prefix="policy", initial=program.token_watch_policy)
    review_form = ReviewPolicyForm(prefix="review", initial=ReviewPolicyForm.initial_for(program))
    created = None
    status = 200
    if request.method == "POST" and "policy-save" in request.POST:
        policy_form = TokenWatchPolicyForm(request.POST, prefix="policy")
        status = _save_policy(request, policy_form, "The token watch policy is saved.")
        if status is None:
            return redirect("accounts:program_admin")
    elif request.method == "POST" and "review-save" in request.POST:
        review_form = ReviewPolicyForm(request.POST, prefix="review")
        status = _save_policy(request, review_form, "The review policy is saved.")
        if status is None:
            return redirect("accounts:program_admin")
    elif request.method == "POST" and "switch-command" in request.POST:
        switch_form = ProgramSwitchForm(request.POST, prefix="switch")
        if switch_form.is_valid():
            command = switch_form.cleaned_data["command"]
            try:
                _SWITCH[command](actor=request.user, reason=switch_form.cleaned_data["reason"])
            except DomainError as error:
                _form_error(switch_form, error)
                status = error.status
            else:
                messages.success(request, f"The program is now {program_get().status}.")
                return redirect("accounts:program_admin")
        else:
            status = 400
    elif request.method == "POST":
        invitation_form = InvitationForm(request.POST, prefix="invite")
        if invitation_form.is_valid():
            try:
                invitation, code = invitation_create(actor=request.user,
                                                     **invitation_form.cleaned_data)
            except DomainError as error:
                _form_error(invitation_form, error)
                status = error.status
            else:
                # Shown once, in this response only: the code is not stored anywhere.
                created = {
                    "invitation": invitation, "code": code,
                    "url": request.build_absolute_uri(
                        reverse("accounts:redeem_code", args=[code])),
                }
                invitation_form = InvitationForm(prefix="invite")
        else:
            status = 400
    now = clock.now()
    invitations = [(invitation, invitation.status_at(now))
                   for invitation in invitations_list()[:100]]
    return render(request, "accounts/program_admin.html", {
        "switch_form": switch_form, "invitation_form": invitation_form, "created": created,
        "invitations": invitations, "program": program, "policy_form": policy_form,
        "review_form": review_form,
        "anomalies": token_anomalies_recent(),
    }, status=status)


@login_required
@require_POST
@program_admins_only
def invitation_revoke_view(request: HttpRequest, invitation_id) -> HttpResponse:
    invitation = get_object_or_404(invitations_list(), pk=invitation_id)
    try:
        invitation_revoke(actor=request.user, invitation=invitation)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "The invitation is revoked.")
    return redirect("accounts:program_admin")


@login_required
@require_POST
@program_admins_only
def token_revoke_view(request: HttpRequest, user_id: int) -> HttpResponse:
    owner = get_object_or_404(User, pk=user_id)
    if token_revoke_of(actor=request.user, owner=owner):
        messages.success(request, f"The API token of {owner.username} is revoked; scripts using "
                                  "it stop working until they sign in again.")
    else:
        messages.info(request, f"{owner.username} has no API token.")
    return redirect("accounts:program_admin")
