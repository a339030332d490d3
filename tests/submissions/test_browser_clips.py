"""A tester's clips in Chromium, processed by a real worker: upload with a progress bar,
watch it reach review, see a bad clip fail with its message, generate a clip that plays."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from accounts.selectors import program_get
from submissions.models import Submission
from tests.conftest import sign_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", "/tmp"))  # noqa: S108
WAIT_MS = 60_000


def _upload(page, base: str, path: Path, prompt: str) -> None:
    page.goto(base + "/clips/")
    page.locator("#upload-form input[type=file]").set_input_files(str(path))
    page.locator("#upload-form textarea").fill(prompt)
    page.locator("#upload-form").get_by_role("button", name="Upload").click()


def test_a_tester_uploads_watches_review_and_generates(
        browser, live_server, celery_worker_process, tiny_clip, long_clip, tmp_path):
    # given a tester, and a program that takes clips up to 2 s
    UserFactory(username="tess", roles=[Role.TESTER])
    program = program_get()
    program.max_duration_s = 2
    program.save(update_fields=["max_duration_s"])
    base = live_server.url
    page = browser.new_context().new_page()
    sign_in(page, base, "tess")

    # when she uploads a real clip
    _upload(page, base, tiny_clip, "a red fox at dawn")

    # then the progress bar shows, and the clip's page follows it to review
    expect(page.get_by_test_id("upload-progress")).to_be_visible()
    page.wait_for_url(f"{base}/clips/*/", timeout=WAIT_MS)
    expect(page.get_by_test_id("status")).to_have_text("Pending review", timeout=WAIT_MS)
    player = page.get_by_test_id("player")
    assert player.get_attribute("poster").endswith("/media/thumbnail/")
    sheet = page.get_by_test_id("contact-sheet")
    expect(sheet).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                           arg=sheet.element_handle())
    page.screenshot(path=str(SCREENSHOTS / "clip-pending-review.png"), full_page=True)

    # when she uploads a clip longer than the program allows
    _upload(page, base, long_clip, "a slow river")

    # then it fails, with a message she understands
    page.wait_for_url(f"{base}/clips/*/", timeout=WAIT_MS)
    expect(page.get_by_test_id("status")).to_have_text("Failed", timeout=WAIT_MS)
    expect(page.get_by_test_id("failure")).to_contain_text("media.too_long")

    # when she uploads something that is not a video at all
    not_video = tmp_path / "not-a-clip.mp4"
    not_video.write_text("just some text pretending to be a clip\n" * 40)
    _upload(page, base, not_video, "nothing")

    # then the upload is refused on the spot
    expect(page.get_by_test_id("upload-errors")).to_contain_text("not a video")

    # when she asks the generator for a clip and submits it
    page.goto(base + "/clips/")
    form = page.get_by_test_id("generate-form")
    form.get_by_label("Prompt").fill("a paper boat in the rain")
    form.get_by_label("Duration (seconds)").fill("2")
    form.get_by_label("Resolution").select_option("480p")
    form.get_by_role("button", name="Generate").click()
    expect(page.get_by_test_id("status")).to_have_text("Draft", timeout=WAIT_MS)
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_test_id("status")).to_have_text("Pending review", timeout=WAIT_MS)

    # then the generated clip plays in the browser
    played = page.get_by_test_id("player").evaluate("""async video => {
        video.muted = true;
        await video.play();
        await new Promise(resolve => setTimeout(resolve, 500));
        return {time: video.currentTime, duration: video.duration, width: video.videoWidth};
    }""")
    assert played["width"] == 854
    assert played["duration"] == pytest.approx(2, abs=0.1)
    assert played["time"] > 0
    assert Submission.objects.filter(owner__username="tess").count() == 3
