"""``GET review/queue/`` (the queue's figures at a known moment) and ``GET review/reasons/``
(the reason taxonomy with its canned notes)."""

from datetime import timedelta

import pytest

from accounts.models import Role
from review.models import Claim, ClaimEnd, SecondOpinion, TaxonomyVersion, Track
from review.services.taxonomy import reason_save
from review.taxonomy_defaults import REASONS
from tests.factories import UserFactory
from tests.review.conftest import T0

pytestmark = pytest.mark.django_db

DEFAULT_CODES = ["likeness", "sexual-content", "violence", "hate", "minors", "copyright",
                 "misleading", "confidentiality", "quality", "other"]


def test_an_empty_queue(now, api, ada):
    response = api(ada).queue()

    assert response.status_code == 200
    assert response.json() == {"pending": 0, "claimed": 0, "oldest_wait_s": None,
                               "escalated": 0, "second_opinions": 0}


@pytest.mark.parametrize("reader", [Role.MODERATOR, Role.PROGRAM_ADMIN])
def test_the_queue_figures_at_a_known_moment(reader, now, api, tester, ada, bo, make_pending,
                                             hold, decided, event_mark, recorded):
    # given, at T0:
    waiting = make_pending(tester, entered_at=T0 - timedelta(seconds=600))
    make_pending(tester, entered_at=T0 - timedelta(seconds=100))
    held = make_pending(tester, entered_at=T0 - timedelta(hours=2))  # older, but claimed
    hold(ada, held)
    lapsed = make_pending(tester, entered_at=T0 - timedelta(seconds=300))
    stale = hold(ada, lapsed, lease_s=60)  # ran out; the sweep has not run yet
    escalated = make_pending(tester, entered_at=T0 - timedelta(seconds=1200))
    decided(bo, escalated, "escalate", reasons=())  # still pending, for the admins
    released = make_pending(tester, entered_at=T0 - timedelta(seconds=50))
    Claim.objects.filter(pk=hold(bo, released).pk).update(ended_at=T0,
                                                          end_reason=ClaimEnd.RELEASED)
    for outcome in ("approve", "reject"):  # decided: out of the queue
        decided(bo, make_pending(tester, entered_at=T0 - timedelta(days=1)), outcome)
    for status in ("draft", "received", "processing", "failed", "withdrawn"):
        make_pending(tester, status=status, entered_at=None)
    asked = make_pending(tester, entered_at=T0 - timedelta(days=2))
    SecondOpinion.objects.create(submission=asked, created_at=T0 - timedelta(seconds=30),
                                 first_decision=decided(bo, asked, "approve", reasons=()))
    answering = make_pending(tester, entered_at=T0 - timedelta(days=2))
    request = SecondOpinion.objects.create(
        submission=answering, created_at=T0 - timedelta(seconds=30),
        first_decision=decided(bo, answering, "approve", reasons=()))
    hold(ada, answering, track=Track.SECOND_OPINION, second_opinion=request)
    now.advance(seconds=90)
    mark = event_mark()

    # when
    response = api(UserFactory(roles=[reader])).queue()

    # then: waiting are the two fresh clips, the lapsed lease's, the released one and the
    # escalation, plus one second opinion; live claims are the held clip's and the answering
    # second opinion's; the oldest waiting is the escalation
    assert response.status_code == 200
    assert response.json() == {"pending": 6, "claimed": 2, "oldest_wait_s": 1290,
                               "escalated": 1, "second_opinions": 1}
    assert recorded(mark) == []
    assert Claim.objects.get(pk=stale.pk).ended_at is None  # reading changes nothing
    assert waiting.review_entered_at == T0 - timedelta(seconds=600)


def test_oldest_wait_is_rounded_to_whole_seconds(now, api, ada, tester, make_pending):
    make_pending(tester, entered_at=T0 - timedelta(seconds=41, milliseconds=600))

    assert api(ada).queue().json()["oldest_wait_s"] == 42


def test_the_ten_default_reasons_with_their_canned_notes(now, api, ada):
    response = api(ada).reasons()

    assert response.status_code == 200
    assert [reason["code"] for reason in response.json()] == DEFAULT_CODES
    assert response.json() == [
        {"code": code, "label": label, "description": description, "canned_response": canned}
        for code, label, description, canned in REASONS]
    assert response.json()[0] == {
        "code": "likeness", "label": "Likeness of a real person",
        "description": "Shows or imitates an identifiable real person without their consent.",
        "canned_response": "Your clip depicts or imitates a real, identifiable person. Clips of "
                           "real people are not shared during the program."}


def test_the_default_taxonomy_is_version_one(now):
    version = TaxonomyVersion.objects.get()
    assert version.number == 1
    assert [entry["code"] for entry in version.codes] == DEFAULT_CODES


def test_a_retired_reason_leaves_the_list_and_a_new_version_is_published(now, api, ada,
                                                                        event_mark, recorded):
    pat = UserFactory(roles=[Role.PROGRAM_ADMIN])
    mark = event_mark()

    reason_save(actor=pat, code="quality", label="Quality", description="",
                canned_response="Not representative.", is_active=False)

    codes = [code for code in DEFAULT_CODES if code != "quality"]
    assert [reason["code"] for reason in api(ada).reasons().json()] == codes
    version = TaxonomyVersion.objects.order_by("-number").first()
    assert version.number == 2
    assert recorded(mark) == [("taxonomy.published", pat.pk, str(version.pk),
                               {"version": 2, "codes": codes})]


def test_an_escalated_clip_the_tester_withdrew_no_longer_counts_as_escalated(
        now, api, ada, bo, tester, make_pending, decided):
    # given bo escalated a clip and the tester then withdrew it (allowed: still undecided)
    clip = make_pending(tester, entered_at=T0 - timedelta(minutes=5))
    decided(bo, clip, "escalate", reasons=())
    assert api(tester).client.post(f"/api/v1/submissions/{clip.pk}/withdraw/").status_code \
        == 200

    # when
    response = api(ada).queue()

    # then nothing waits for the program admins
    assert api(UserFactory(roles=[Role.PROGRAM_ADMIN])).claim().status_code == 204
    assert response.json() == {"pending": 0, "claimed": 0, "oldest_wait_s": None,
                               "escalated": 0, "second_opinions": 0}
