"""The moderators' page in Chromium, on clips written as rows (no worker needed): the lease
renews itself and a lost lease says so; release-and-next; the guard against approving with
reasons ticked; and only the actions a track allows (escalations, blind second opinions)."""

import os
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts.models import Program, Role
from accounts.selectors import program_get
from audit import SystemActor
from audit.models import Event
from core import clock
from review.models import Claim, Decision
from review.services.claims import claim_next
from review.services.decisions import decision_record
from review.services.taxonomy import taxonomy_install_defaults
from review.taxonomy_defaults import REASONS
from submissions.models import Source, Submission, SubmissionStatus
from tests.conftest import sign_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", "/tmp"))  # noqa: S108
LOST = "Your claim on this item expired or the item was decided; nothing was changed."


@pytest.fixture(autouse=True)
def _gate(postgres):
    # PostgreSQL: the live server answers this page's concurrent requests on several threads,
    # which an in-memory SQLite database shared between threads does not survive.
    taxonomy_install_defaults(actor=SystemActor("test-setup"))
    program_get()
    Program.objects.update(second_opinion_rate=0)


def _waiting_clip(owner, title: str) -> Submission:
    now = clock.now()
    return Submission.objects.create(
        owner=owner, cohort=owner.cohort, status=SubmissionStatus.PENDING_REVIEW, title=title,
        prompt=f"{title.lower()} at dawn", source=Source.UPLOAD, sha256="ab" * 32,
        created_at=now, review_entered_at=now)


def _wait_for(condition, what: str, seconds: float = 15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def _actions(since: int) -> list[tuple[str, str]]:
    return list(Event.objects.filter(id__gt=since, action__startswith="review.")
                .values_list("action", "subject_id"))


def _last_event_id() -> int:
    return Event.objects.order_by("-id").values_list("id", flat=True).first() or 0


def test_the_lease_renews_itself_a_lost_one_says_so_and_s_takes_the_next(new_page,
                                                                         live_server):
    # given: a six-second lease, two clips waiting, and a moderator
    Program.objects.update(lease_seconds=6)
    tester = UserFactory(roles=[Role.TESTER])
    fox, crow = _waiting_clip(tester, "Fox"), _waiting_clip(tester, "Crow")
    UserFactory(username="ada", roles=[Role.MODERATOR])
    base = live_server.url
    page = new_page()
    sign_in(page, base, "ada")

    # when: she starts reviewing from her home page
    page.get_by_test_id("start-reviewing").click()

    # then: the first clip is hers, with a countdown, and the address no longer says #start
    item = page.get_by_test_id("review-item")
    expect(item).to_have_attribute("data-submission-id", str(fox.pk))
    expect(page).to_have_url(base + "/review/")
    expect(page.get_by_test_id("lease-left")).to_have_text(re.compile(r"^00:0[0-6]$"))
    expect(page.get_by_test_id("no-video")).to_be_visible()

    # when: a third of the lease is left
    # then: the page renews it on its own
    _wait_for(lambda: Event.objects.filter(action="review.renewed").exists(), "a renewal")
    claim = Claim.objects.get(moderator__username="ada", ended_at=None)
    assert claim.renewals >= 1

    # when: the lease is lost all the same (say the machine slept), and she approves
    Program.objects.update(lease_seconds=600)
    Claim.objects.filter(pk=claim.pk).update(expires_at=clock.now())
    page.keyboard.press("a")

    # then: the page says so, offers the next item and changed nothing
    expect(page.get_by_test_id("review-lost")).to_be_visible()
    expect(page.locator("#lost-message")).to_have_text(LOST)
    expect(page.get_by_test_id("lease")).to_be_hidden()
    assert page.evaluate("document.activeElement.id") == "claim-after-loss"
    assert not Decision.objects.exists()
    page.screenshot(path=str(SCREENSHOTS / "review-lease-lost.png"), full_page=True)

    # when: she claims the next item, then presses "s"
    page.get_by_test_id("claim-next").click()
    expect(item).to_have_attribute("data-submission-id", str(fox.pk))
    expect(page.get_by_test_id("lease-left")).to_have_text(re.compile(r"^(09:5\d|10:00)$"))
    mark = _last_event_id()
    page.keyboard.press("s")

    # then: the other clip is hers, and the first went back to the queue after that
    expect(item).to_have_attribute("data-submission-id", str(crow.pk))
    expect(page.get_by_test_id("review-status")).to_contain_text("Released.")
    _wait_for(lambda: len(_actions(mark)) == 2, "the claim and the release")
    assert [action for action, _ in _actions(mark)] == ["review.claimed", "review.released"]
    assert [subject for _, subject in _actions(mark)] == [str(crow.pk), str(fox.pk)]

    # when: she ticks a reason with "1" and presses "a"
    page.keyboard.press("1")
    page.keyboard.press("a")

    # then: approving with a reason ticked is refused on the page
    expect(page.get_by_test_id("reasons-error")).to_have_text(
        "Reasons are ticked: untick them to approve, or reject with R.")
    assert not Decision.objects.exists()

    # when: she unticks it (the note empties again) and approves, then escalates the next
    page.keyboard.press("1")
    expect(page.get_by_label("Note to the tester")).to_have_value("")
    page.keyboard.press("a")
    expect(item).to_have_attribute("data-submission-id", str(fox.pk))
    page.keyboard.press("e")

    # then: nothing is left for her, and the figures show the escalation (which the queue
    # still counts as waiting: for the program admins)
    expect(page.get_by_test_id("review-idle")).to_be_visible()
    expect(page.locator("#idle-heading")).to_have_text("Nothing to review")
    expect(page.get_by_test_id("review-status")).to_have_text(
        "Escalated to the program admins. Nothing to review.")
    expect(page.locator("#idle-message")).to_contain_text(
        "Queue: 1 waiting · 0 in review · 1 escalated to the program admins")
    assert page.evaluate("document.activeElement.id") == "idle-heading"
    page.screenshot(path=str(SCREENSHOTS / "review-nothing-to-review.png"), full_page=True)
    assert list(Decision.objects.order_by("decided_at").values_list(
        "submission_id", "outcome", "is_effective")) == [(crow.pk, "approve", True),
                                                         (fox.pk, "escalate", False)]


def test_only_the_actions_a_track_allows_are_offered(new_page, live_server):
    # given: one clip escalated, another approved and sampled for a second opinion
    tester = UserFactory(roles=[Role.TESTER])
    ada = UserFactory(username="ada", roles=[Role.MODERATOR])
    UserFactory(username="pat", roles=[Role.PROGRAM_ADMIN])
    UserFactory(username="bo", roles=[Role.MODERATOR])
    fox = _waiting_clip(tester, "Fox")
    decision_record(actor=ada, claim_id=claim_next(actor=ada).pk, outcome="escalate",
                    reasons=["likeness"], internal_note="Is this the actor?")
    Program.objects.update(second_opinion_rate=1)
    crow = _waiting_clip(tester, "Crow")
    decision_record(actor=ada, claim_id=claim_next(actor=ada).pk, outcome="approve")
    base = live_server.url

    # when: the program admin starts reviewing
    admin = new_page()
    sign_in(admin, base, "pat")
    admin.get_by_test_id("review-escalations").click()
    admin.get_by_test_id("start-reviewing").click()

    # then: the escalation, with no escalate button, and "e" does nothing
    item = admin.get_by_test_id("review-item")
    expect(item).to_have_attribute("data-submission-id", str(fox.pk))
    expect(admin.get_by_test_id("track")).to_have_text("Escalation")
    expect(item.get_by_role("button", name="Escalate")).to_be_hidden()
    expect(item.get_by_role("button", name="Approve")).to_be_visible()
    admin.keyboard.press("e")
    expect(admin.get_by_test_id("review-status")).to_contain_text("Now reviewing (escalation)")
    assert Decision.objects.filter(submission=fox).count() == 1

    # when: the admin rejects it for the second reason
    admin.keyboard.press("2")
    admin.keyboard.press("r")

    # then: nothing is left for the admin (second opinions are for moderators)
    expect(admin.locator("#idle-heading")).to_have_text("Nothing to review")

    # when: another moderator starts reviewing
    second = new_page()
    sign_in(second, base, "bo")
    second.goto(base + "/review/")
    second.keyboard.press("s")

    # then: a blind second opinion, without the first decision and without escalation
    item = second.get_by_test_id("review-item")
    expect(item).to_have_attribute("data-submission-id", str(crow.pk))
    expect(second.get_by_test_id("track")).to_have_text("Second opinion")
    expect(second.locator("#track-help")).to_contain_text("Blind")
    expect(second.get_by_test_id("previous-decision")).to_be_hidden()
    expect(item.get_by_role("button", name="Escalate")).to_be_hidden()
    second.keyboard.press("e")
    second.keyboard.press("9")
    expect(second.get_by_label(REASONS[8][1])).to_be_checked()
    second.keyboard.press("r")
    expect(second.locator("#idle-heading")).to_have_text("Nothing to review")

    # and: the escalation was decided for real; the second opinion changed nothing
    fox.refresh_from_db()
    crow.refresh_from_db()
    assert (fox.status, crow.status) == (SubmissionStatus.REJECTED, SubmissionStatus.APPROVED)
    assert list(Decision.objects.filter(moderator__username__in=["pat", "bo"])
                .order_by("decided_at").values_list("track", "outcome", "reasons",
                                                    "is_effective")) == [
        ("escalation", "reject", [REASONS[1][0]], True),
        ("second_opinion", "reject", [REASONS[8][0]], False),
    ]
