"""The demo program: cohorts, staff and testers, created through the real services."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from accounts.models import Cohort, Role, User
from accounts.selectors import program_get
from accounts.services.invitations import invitation_create, invitation_redeem
from accounts.services.users import cohort_create, terms_accept, user_create
from audit import SystemActor, record
from audit.models import Study
from submissions.models import Submission

SEED_ACTOR = SystemActor("seed")

COHORTS = [
    ("creative-partners", "Creative partners",
     "Invited artists and filmmakers testing the tool for creative work."),
    ("red-team", "Red team", "Invited experts probing the tool for harms before release."),
]


@dataclass(frozen=True)
class DemoLogin:
    username: str
    roles: str
    cohort: str


# (username, role, cohort slug)
STAFF = [
    ("admin", Role.PROGRAM_ADMIN, "creative-partners"),
    ("mod-ada", Role.MODERATOR, "creative-partners"),
    ("mod-bo", Role.MODERATOR, "red-team"),
    ("researcher", Role.RESEARCHER, "creative-partners"),
]
# (slug, name, description): the study the demo researcher reads the log through.
DEMO_STUDY = ("demo", "Demo study",
              "The demo program's approval gate, seen through this study's pseudonyms.")
TESTERS = [
    ("tess", "creative-partners"), ("theo", "creative-partners"), ("tara", "creative-partners"),
    ("rosa", "red-team"), ("rex", "red-team"),
]


PROMPTS = [
    "a paper boat drifting down a rain-soaked street at dusk",
    "a glass jellyfish pulsing over a neon city",
    "an origami crane unfolding into a flock of birds",
    "a lighthouse keeper's cat watching the storm roll in",
    "a time-lapse of moss growing over an abandoned piano",
    "two robots sharing an umbrella in a quiet park",
]


def seed_clips(tester: User, count: int, offset: int) -> list[Submission]:
    """Give a tester ``count`` generated clips: the first stays a draft, the others are
    submitted and processed here (the worker would find them done). Returns the submitted."""
    from submissions.services.generation import submission_render
    from submissions.services.lifecycle import submission_generate, submission_submit
    from submissions.services.processing import processing_run, processing_start

    submitted = []
    for index in range(count):
        prompt = PROMPTS[(offset + index) % len(PROMPTS)]
        submission = submission_generate(actor=tester, prompt=prompt, duration_s=3,
                                         resolution="480p", seed=offset * 10 + index)
        submission_render(submission.pk)
        if index > 0:
            submission.refresh_from_db()
            submission_submit(actor=tester, submission=submission)
            attempt = processing_start(submission.pk)
            if attempt is not None:
                processing_run(attempt)
                submitted.append(submission)
    return submitted


# (reviewer, outcome, reasons), taken in queue order; the remaining clips stay waiting.
DEMO_DECISIONS = [
    ("mod-ada", "approve", []),
    ("mod-ada", "reject", ["quality"]),
    ("mod-bo", "escalate", []),
]


def seed_reviews() -> None:
    """Decide the first clips in the queue so the demo shows every state: approved,
    rejected, escalated to the program admins, and clips still waiting."""
    from review.services.claims import claim_next
    from review.services.decisions import decision_record
    from review.services.taxonomy import taxonomy_install_defaults

    taxonomy_install_defaults(actor=SEED_ACTOR)
    for reviewer, outcome, reasons in DEMO_DECISIONS:
        moderator = User.objects.get(username=reviewer)
        claim = claim_next(actor=moderator)
        if claim is not None:
            decision_record(actor=moderator, claim_id=claim.pk, outcome=outcome,
                            reasons=reasons)


def seed_study(researcher: User) -> Study:
    """The demo study with the demo researcher in it, recorded as a program admin's change
    in the Django admin is. Idempotent."""
    slug, name, description = DEMO_STUDY
    with transaction.atomic():
        study, created = Study.objects.get_or_create(
            slug=slug, defaults={"name": name, "description": description})
        if created or not study.researchers.filter(pk=researcher.pk).exists():
            study.researchers.add(researcher)
            record("research.study_saved", actor=SEED_ACTOR, subject=study, data={
                "created": created,
                "researchers": sorted(study.researchers.values_list("pk", flat=True)),
                "grants": {grant: getattr(study, f"grant_{grant}")
                           for grant in ("identities", "free_text", "client_context")},
            })
    return study


def seed_demo(*, password: str, clips_per_tester: int = 0) -> list[DemoLogin]:
    """Create the demo program if it is not there yet; returns the demo logins.

    Idempotent: cohorts, accounts and testers' clips that exist are left as they are.
    """
    cohorts = {}
    for slug, name, description in COHORTS:
        cohorts[slug] = Cohort.objects.filter(slug=slug).first() or cohort_create(
            actor=SEED_ACTOR, slug=slug, name=name, description=description)

    logins = []
    admin = User.objects.filter(username="admin").first()
    if admin is None:
        with transaction.atomic():
            admin = user_create(actor=SEED_ACTOR, username="admin", email="admin@example.org",
                                password=password, roles=[Role.PROGRAM_ADMIN],
                                cohort=cohorts["creative-partners"], is_staff=True,
                                is_superuser=True)
            terms_accept(actor=admin, version=program_get().terms_version)
    logins.append(DemoLogin("admin", "program_admin (and Django admin)", "creative-partners"))

    # Everyone else joins the way real people do: the admin invites, they redeem.
    people = STAFF[1:] + [(username, Role.TESTER, cohort) for username, cohort in TESTERS]
    submitted: list[Submission] = []
    for offset, (username, role, cohort) in enumerate(people):
        user = User.objects.filter(username=username).first()
        if user is None:
            _invitation, code = invitation_create(actor=admin, cohort=cohorts[cohort], role=role)
            user, _token = invitation_redeem(code=code, username=username,
                                             email=f"{username}@example.org",
                                             password=password, accept_terms=True)
        if role == Role.TESTER and not user.submissions.exists():
            submitted += seed_clips(user, clips_per_tester, offset)
        logins.append(DemoLogin(username, role, cohort))
        if role == Role.RESEARCHER:
            seed_study(user)
    if submitted:
        seed_reviews()
    return logins
