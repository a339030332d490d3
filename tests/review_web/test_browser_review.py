"""The issue's acceptance story in Chromium, with a real worker: a moderator rejects a clip by
the keyboard and the next item loads in place; the tester reads the reason and appeals; a
second moderator overturns it; the tester shares the clip and its public page plays the
watermarked rendition."""

import os
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect
from rest_framework.test import APIClient

from accounts.models import Program, Role
from accounts.selectors import program_get
from audit import SystemActor
from audit.models import Event
from review.services.taxonomy import taxonomy_install_defaults
from review.taxonomy_defaults import REASONS
from submissions.models import ShareLink, Submission, SubmissionStatus
from tests.conftest import sign_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", "/tmp"))  # noqa: S108
WAIT_MS = 60_000
STORY = ("review.claimed", "review.decided", "review.released", "submission.appealed",
         "submission.shared")
LIKENESS_LABEL, LIKENESS_NOTE = REASONS[0][1], REASONS[0][3]
APPEAL = "It is a fox, not a person: the prompt says so."
VIDEO_READY = """video => video.readyState >= 1 && video.duration > 0"""


def _wait_for(condition, what: str, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def _story(clip_ids) -> list[tuple]:
    """The story's events, in order: who did what to which clip, with the data that matters."""
    keys = ("track", "outcome", "reasons", "appeal_result", "effective")
    return [(event.action, event.actor_id, event.subject_id,
             {key: event.data[key] for key in keys if key in event.data})
            for event in Event.objects.filter(action__in=STORY, subject_id__in=clip_ids)
            .order_by("id")]


def test_reject_by_keyboard_appeal_overturn_share(new_page, live_server, celery_worker_process,
                                                   tiny_clip):
    # given: the reason codes, no second-opinion sampling (so the story is exact), a tester,
    # another tester whose clip waits behind hers, and two moderators
    taxonomy_install_defaults(actor=SystemActor("test-setup"))
    program_get()
    Program.objects.update(second_opinion_rate=0)
    tess = UserFactory(username="tess", roles=[Role.TESTER])
    otto = UserFactory(username="otto", roles=[Role.TESTER])
    ada = UserFactory(username="ada", roles=[Role.MODERATOR])
    bo = UserFactory(username="bo", roles=[Role.MODERATOR])
    base = live_server.url
    tester = new_page()
    sign_in(tester, base, "tess")

    # when: tess uploads a clip and the worker takes it to review
    tester.goto(base + "/clips/")
    tester.locator("#upload-form input[type=file]").set_input_files(str(tiny_clip))
    tester.locator("#upload-form textarea").fill("a red fox at dawn")
    tester.locator("#upload-form").get_by_role("button", name="Upload").click()
    tester.wait_for_url(f"{base}/clips/*/", timeout=WAIT_MS)
    expect(tester.get_by_test_id("status")).to_have_text("Pending review", timeout=WAIT_MS)
    fox = Submission.objects.get(owner=tess)
    # and otto's clip joins the queue behind hers
    otto_api = APIClient()
    otto_api.force_authenticate(otto)
    with tiny_clip.open("rb") as handle:
        created = otto_api.post("/api/v1/submissions/", {"file": handle, "prompt": "a crow",
                                                         "title": "Crow"}, format="multipart")
    assert created.status_code == 201, created.json()
    crow = Submission.objects.get(pk=created.json()["id"])
    _wait_for(lambda: Submission.objects.filter(pk=crow.pk, status=SubmissionStatus
                                                .PENDING_REVIEW).exists(), "otto's clip")

    # when: moderator ada opens the review page from the nav and starts reviewing
    moderator = new_page()
    sign_in(moderator, base, "ada")
    moderator.get_by_test_id("nav-review").click()
    expect(moderator.get_by_test_id("queue-figures")).to_contain_text("2 waiting")
    moderator.get_by_test_id("start-reviewing").click()

    # then: tess's clip is shown, first review, and its video loads
    item = moderator.get_by_test_id("review-item")
    expect(item).to_be_visible()
    expect(item).to_have_attribute("data-submission-id", str(fox.pk))
    expect(moderator.get_by_test_id("track")).to_have_text("First review")
    expect(moderator.get_by_test_id("prompt")).to_have_text("a red fox at dawn")
    expect(moderator.get_by_test_id("facts")).to_contain_text("320\N{MULTIPLICATION SIGN}180")
    expect(moderator.get_by_test_id("history")).to_have_text("The tester's first clip.")
    expect(moderator.get_by_test_id("lease-left")).to_have_text(
        re.compile(r"^(09:5\d|10:00)$"))
    video = moderator.get_by_test_id("review-video")
    assert video.get_attribute("src") == f"{base}/api/v1/submissions/{fox.pk}/media/watermarked/"
    moderator.wait_for_function(VIDEO_READY, arg=video.element_handle(), timeout=WAIT_MS)
    moderator.wait_for_function("img => img.complete && img.naturalWidth > 0",
                                arg=moderator.get_by_test_id("review-sheet").element_handle())
    expect(item.get_by_role("button", name="Escalate")).to_be_visible()
    moderator.evaluate("window.reviewMarker = 'the same document'")

    # when: she rejects with "r" before giving a reason
    moderator.keyboard.press("r")

    # then: the API's message shows beside the reasons, and nothing was decided
    expect(moderator.get_by_test_id("reasons-error")).to_have_text(
        "Give at least one reason when rejecting.")
    assert not fox.decisions.exists()

    # when: she types an internal note (its letters are not shortcuts), leaves it with Esc,
    # ticks the first reason with "1", and rejects with "r"
    moderator.get_by_label("Internal note").click()
    moderator.keyboard.type("Resembles a real actor; see frame 3.")
    moderator.keyboard.press("Escape")
    moderator.keyboard.press("1")
    expect(moderator.get_by_label(LIKENESS_LABEL)).to_be_checked()
    expect(moderator.get_by_label("Note to the tester")).to_have_value(LIKENESS_NOTE)
    expect(moderator.get_by_test_id("reasons-error")).to_be_hidden()
    moderator.screenshot(path=str(SCREENSHOTS / "review-moderator.png"), full_page=True)
    moderator.keyboard.press("r")

    # then: the next item, otto's, loads in the same document
    expect(item).to_have_attribute("data-submission-id", str(crow.pk))
    expect(moderator.get_by_test_id("review-status")).to_contain_text("Rejected.")
    expect(moderator.get_by_test_id("item-heading")).to_have_text("Crow")
    expect(moderator.get_by_label(LIKENESS_LABEL)).not_to_be_checked()
    expect(moderator.get_by_label("Note to the tester")).to_have_value("")
    assert moderator.evaluate("window.reviewMarker") == "the same document"
    assert moderator.evaluate("document.activeElement.id") == "item-heading"
    decision = fox.decisions.get()
    assert (decision.outcome, decision.reasons, decision.note_to_tester,
            decision.internal_note) == ("reject", ["likeness"], LIKENESS_NOTE,
                                        "Resembles a real actor; see frame 3.")

    # when: tess opens her clip's page
    tester.reload()

    # then: she reads the outcome, the reason's label and the note
    expect(tester.get_by_test_id("status")).to_have_text("Rejected")
    expect(tester.get_by_test_id("decision-outcome")).to_have_text("Rejected")
    expect(tester.get_by_test_id("decision-reasons")).to_have_text(LIKENESS_LABEL)
    expect(tester.get_by_test_id("decision-note")).to_have_text(LIKENESS_NOTE)
    expect(tester.get_by_test_id("decided-at")).to_contain_text("UTC")
    tester.screenshot(path=str(SCREENSHOTS / "review-tester-rejected.png"), full_page=True)

    # when: she appeals
    tester.get_by_label("Appeal this decision").fill(APPEAL)
    tester.get_by_role("button", name="Appeal").click()

    # then
    expect(tester.get_by_test_id("appeal-state")).to_contain_text("Appealed")
    expect(tester.get_by_test_id("appeal-message")).to_have_text(APPEAL)
    expect(tester.get_by_test_id("status")).to_have_text("Pending review")
    expect(tester.get_by_test_id("appeal-form")).to_have_count(0)

    # when: moderator bo starts reviewing
    second = new_page()
    sign_in(second, base, "bo")
    second.goto(base + "/review/")
    second.keyboard.press("n")

    # then: he gets the appeal, with tess's message and the rejection appealed against
    item_b = second.get_by_test_id("review-item")
    expect(item_b).to_have_attribute("data-submission-id", str(fox.pk))
    expect(second.get_by_test_id("track")).to_have_text("Appeal")
    expect(second.get_by_test_id("appeal-message")).to_have_text(APPEAL)
    expect(second.get_by_test_id("previous-decision")).to_contain_text(
        f"Rejected for {LIKENESS_LABEL}.")
    second.wait_for_function(VIDEO_READY, arg=second.get_by_test_id("review-video")
                             .element_handle(), timeout=WAIT_MS)
    second.screenshot(path=str(SCREENSHOTS / "review-moderator-appeal.png"), full_page=True)

    # when: he approves with "a"
    second.keyboard.press("a")

    # then: nothing else is waiting for him (otto's clip is ada's), and the figures say so
    expect(second.get_by_test_id("review-idle")).to_be_visible()
    expect(second.get_by_test_id("review-status")).to_have_text("Approved. Nothing to review.")
    expect(second.locator("#idle-message")).to_contain_text("0 waiting · 1 in review")

    # when: ada leaves the review page
    moderator.goto(base + "/home/")

    # then: the clip she held goes back to the queue at once
    _wait_for(lambda: Event.objects.filter(action="review.released").exists(),
              "the release of ada's claim", seconds=10)

    # when: tess looks again and shares her clip
    tester.reload()
    expect(tester.get_by_test_id("status")).to_have_text("Approved")
    expect(tester.get_by_test_id("decision-outcome")).to_have_text("Approved on appeal")
    expect(tester.get_by_test_id("appeal-state")).to_have_text(
        "Successful: a second moderator overturned the rejection.")
    tester.screenshot(path=str(SCREENSHOTS / "review-tester-decided.png"), full_page=True)
    tester.get_by_role("button", name="Share").click()
    link = tester.get_by_test_id("share-link")
    expect(link).to_be_visible()

    # then: the public page plays the watermarked rendition
    token = ShareLink.objects.get(submission=fox).token
    public = new_page()
    public.goto(base + link.get_attribute("href"))
    player = public.get_by_test_id("shared-player")
    assert player.get_attribute("src") == f"/s/{token}/video/"
    played = player.evaluate("""async video => {
        video.muted = true;
        await video.play();
        await new Promise(resolve => setTimeout(resolve, 400));
        return {time: video.currentTime, width: video.videoWidth, height: video.videoHeight};
    }""")
    assert (played["width"], played["height"]) == (320, 180)
    assert played["time"] > 0

    # and the audit log tells the story, in order
    fox_id, crow_id = str(fox.pk), str(crow.pk)
    assert _story([fox_id, crow_id]) == [
        ("review.claimed", ada.pk, fox_id, {"track": "primary"}),
        ("review.decided", ada.pk, fox_id, {"track": "primary", "outcome": "reject",
                                            "reasons": ["likeness"], "appeal_result": None,
                                            "effective": True}),
        ("review.claimed", ada.pk, crow_id, {"track": "primary"}),
        ("submission.appealed", tess.pk, fox_id, {}),
        ("review.claimed", bo.pk, fox_id, {"track": "appeal"}),
        ("review.decided", bo.pk, fox_id, {"track": "appeal", "outcome": "approve",
                                           "reasons": [], "appeal_result": "overturned",
                                           "effective": True}),
        ("review.released", ada.pk, crow_id, {}),
        ("submission.shared", tess.pk, fox_id, {}),
    ]
