"""The tester's side of the gate on a clip's page: the decision with its reasons' labels and
note, the appeal form (a web view over ``appeal_create``: owner only, with CSRF, once, only
after a rejection) and the appeal's outcome afterwards."""

import html
import re

import pytest

from accounts.models import Program, ProgramStatus, Role
from accounts.selectors import program_get
from audit import SystemActor
from audit.models import Event
from core import clock
from review.models import Appeal, Claim
from review.services.claims import claim_next, claim_release, claim_renew
from review.services.decisions import appeal_create, decision_record
from review.services.taxonomy import taxonomy_install_defaults
from submissions.models import Source, Submission, SubmissionStatus
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

S = SubmissionStatus
NOTE = "It looks like a well-known actor."
MESSAGE = "It is a fox, not a person."


@pytest.fixture(autouse=True)
def _gate(db):
    # The reason codes (a transactional test may have flushed the data migration's rows), and
    # no second-opinion sampling, so the events each test asserts are its own.
    taxonomy_install_defaults(actor=SystemActor("test-setup"))
    program_get()
    Program.objects.update(second_opinion_rate=0)


@pytest.fixture
def ada(db):
    return UserFactory(username="ada", roles=[Role.MODERATOR])


@pytest.fixture
def bo(db):
    return UserFactory(username="bo", roles=[Role.MODERATOR])


def _waiting_clip(owner, **fields) -> Submission:
    now = clock.now()
    return Submission.objects.create(
        owner=owner, cohort=owner.cohort, status=S.PENDING_REVIEW, prompt="a red fox at dawn",
        title="Fox", source=Source.UPLOAD, sha256="ab" * 32, created_at=now,
        review_entered_at=now, **fields)


def _decide(moderator, outcome, reasons=(), note=""):
    claim = claim_next(actor=moderator)
    assert claim is not None
    return decision_record(actor=moderator, claim_id=claim.pk, outcome=outcome,
                           reasons=list(reasons), note_to_tester=note)


@pytest.fixture
def rejected(tester, ada):
    clip = _waiting_clip(tester)
    _decide(ada, "reject", ["likeness", "copyright"], NOTE)
    clip.refresh_from_db()
    return clip


def _text(response) -> str:
    return html.unescape(response.content.decode())


def _testid(response, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}"[^>]*>(.*?)</(?:p|span|blockquote|ul|time)>',
                      response.content.decode(), re.S)
    assert found is not None, f"no data-testid={testid} on the page"
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", found.group(1)))).strip()


def _state(clip) -> dict:
    clip.refresh_from_db()
    return {"status": clip.status, "appeals": list(Appeal.objects.values_list("message",
                                                                                flat=True)),
            "events": list(Event.objects.order_by("id").values_list("id", "action"))}


# --- The decision on the clip's page ------------------------------------------------------


def test_a_rejected_clip_shows_the_decision_and_the_appeal_form_to_its_owner(
        web_client, tester, rejected):
    # when
    response = web_client(tester).get(f"/clips/{rejected.pk}/")

    # then
    assert response.status_code == 200
    decision = rejected.decisions.get()
    assert _testid(response, "decision-outcome") == "Rejected"
    assert _testid(response, "decision-reasons") == "Likeness of a real person " \
                                                    "Copyright or trademark"
    assert _testid(response, "decision-note") == NOTE
    assert _testid(response, "decided-at") == decision.decided_at.strftime("%Y-%m-%d %H:%M UTC")
    page = response.content.decode()
    assert f'<form method="post" action="/clips/{rejected.pk}/appeal/" ' \
           f'data-testid="appeal-form">' in page
    assert '<textarea id="appeal-message" name="message" rows="4" maxlength="2000" required' \
        in page
    assert 'data-testid="appeal-state"' not in page


def test_the_canned_notes_stand_in_when_the_moderator_wrote_none(web_client, tester, ada):
    # given
    clip = _waiting_clip(tester)
    _decide(ada, "reject", ["violence"])

    # when
    response = web_client(tester).get(f"/clips/{clip.pk}/")

    # then
    assert _testid(response, "decision-reasons") == "Violence or gore"
    assert _testid(response, "decision-note") == "Your clip shows graphic violence or gore."


def test_staff_see_the_decision_but_no_appeal_form(web_client, rejected, ada):
    # when
    response = web_client(ada).get(f"/clips/{rejected.pk}/")

    # then
    assert _testid(response, "decision-outcome") == "Rejected"
    assert 'data-testid="appeal-form"' not in response.content.decode()


def test_a_clip_waiting_for_review_shows_no_decision(web_client, tester):
    # given
    clip = _waiting_clip(tester)

    # when
    page = web_client(tester).get(f"/clips/{clip.pk}/").content.decode()

    # then
    assert 'data-testid="decision"' not in page
    assert 'data-testid="appeal-form"' not in page


def test_an_approved_clip_shows_the_approval_and_the_share_button_not_the_appeal_form(
        web_client, tester, ada):
    # given
    clip = _waiting_clip(tester)
    _decide(ada, "approve")

    # when
    response = web_client(tester).get(f"/clips/{clip.pk}/")

    # then
    page = response.content.decode()
    assert _testid(response, "decision-outcome") == "Approved"
    assert 'data-testid="decision-reasons"' not in page
    assert 'data-testid="appeal-form"' not in page
    assert f'action="/clips/{clip.pk}/share/"' in page


def test_an_escalated_clip_shows_no_decision_yet(web_client, tester, ada):
    # given
    clip = _waiting_clip(tester)
    _decide(ada, "escalate", ["likeness"])

    # when
    page = web_client(tester).get(f"/clips/{clip.pk}/").content.decode()

    # then
    assert 'data-testid="decision"' not in page
    assert "Pending review" in page


def test_an_appealed_clip_shows_the_appeal_waiting_and_no_form(web_client, tester, rejected):
    # given
    appeal_create(actor=tester, submission=rejected, message=MESSAGE)

    # when
    response = web_client(tester).get(f"/clips/{rejected.pk}/")

    # then
    appeal = Appeal.objects.get()
    assert _testid(response, "appeal-state") == (
        f"Appealed on {appeal.created_at:%Y-%m-%d %H:%M} UTC: a different moderator will "
        "review the clip.")
    assert _testid(response, "appeal-message") == MESSAGE
    assert _testid(response, "decision-outcome") == "Rejected"
    assert _testid(response, "status") == "Pending review"
    assert 'data-testid="appeal-form"' not in response.content.decode()


@pytest.mark.parametrize(("outcome", "shown", "status", "state"), [
    ("approve", "Approved", "Approved",
     "Successful: a second moderator overturned the rejection."),
    ("reject", "Rejected", "Rejected",
     "Turned down: a second moderator upheld the rejection."),
])
def test_the_appeals_outcome_is_shown(web_client, tester, rejected, bo, outcome, shown,
                                      status, state):
    # given
    appeal_create(actor=tester, submission=rejected, message=MESSAGE)
    _decide(bo, outcome, ["likeness"] if outcome == "reject" else [])

    # when
    response = web_client(tester).get(f"/clips/{rejected.pk}/")

    # then
    assert _testid(response, "decision-outcome") == f"{shown} on appeal"
    assert _testid(response, "status") == status
    assert _testid(response, "appeal-state") == state
    assert 'data-testid="appeal-form"' not in response.content.decode()


def test_the_owners_timeline_leaves_out_the_reviews_inner_workings(web_client, tester, ada,
                                                                   bo):
    # given: a claim renewed and released, then an approval sampled for a blind second
    # opinion, which another moderator gives
    clip = _waiting_clip(tester)
    claim = claim_next(actor=ada)
    claim_renew(actor=ada, claim_id=claim.pk)
    claim_release(actor=ada, claim_id=claim.pk)
    Program.objects.update(second_opinion_rate=1)
    _decide(ada, "approve")
    second = _decide(bo, "reject", ["quality"])

    # when
    owner_page = web_client(tester).get(f"/clips/{clip.pk}/")
    staff_page = web_client(ada).get(f"/clips/{clip.pk}/")

    # then
    def timeline(response):
        listed = re.search(r'data-testid="timeline">(.*?)</ol>', response.content.decode(),
                           re.S).group(1)
        return re.findall(r"</span> ([^<]+?)</li>", listed)

    assert second.track == "second_opinion"
    assert timeline(owner_page) == ["Decided: approved"]
    assert timeline(staff_page) == ["Claimed", "Renewed", "Released", "Claimed",
                                    "Decided: approved", "Second opinion requested", "Claimed",
                                    "Decided: rejected"]
    assert _testid(owner_page, "decision-outcome") == "Approved"


# --- The appeal form's view ---------------------------------------------------------------


def test_the_owner_appeals_a_rejection(web_client, tester, rejected, csrf_token):
    # given
    client = web_client(tester)
    token = csrf_token(client, f"/clips/{rejected.pk}/")
    mark = Event.objects.order_by("-id").values_list("id", flat=True).first()

    # when
    response = client.post(f"/clips/{rejected.pk}/appeal/",
                           {"message": f"  {MESSAGE}  ", "csrfmiddlewaretoken": token})

    # then
    assert response.status_code == 302
    assert response["Location"] == f"/clips/{rejected.pk}/"
    rejected.refresh_from_db()
    assert (rejected.status, rejected.review_priority) == (S.PENDING_REVIEW, 10)
    appeal = Appeal.objects.get()
    assert (appeal.submission, appeal.message, appeal.rejection) == (
        rejected, MESSAGE, rejected.decisions.get())
    events = Event.objects.filter(id__gt=mark)
    assert [(e.action, e.actor_id, e.subject_id, e.data) for e in events] == [
        ("submission.appealed", tester.pk, str(rejected.pk),
         {"rejection_id": str(appeal.rejection.pk), "message_chars": len(MESSAGE)})]
    page = client.get(response["Location"])
    assert "Appealed: a different moderator will review your clip." in _text(page)
    assert _testid(page, "appeal-message") == MESSAGE


def test_the_appeal_goes_to_a_different_moderator(web_client, tester, rejected, ada, bo,
                                                  csrf_token):
    # given
    client = web_client(tester)
    token = csrf_token(client, f"/clips/{rejected.pk}/")

    # when
    client.post(f"/clips/{rejected.pk}/appeal/", {"message": MESSAGE,
                                                   "csrfmiddlewaretoken": token})

    # then
    assert claim_next(actor=ada) is None
    claim = claim_next(actor=bo)
    assert (claim.submission_id, claim.track) == (rejected.pk, "appeal")


def test_an_appeal_without_the_csrf_token_is_refused(web_client, tester, rejected):
    # given
    before = _state(rejected)

    # when
    response = web_client(tester).post(f"/clips/{rejected.pk}/appeal/", {"message": MESSAGE})

    # then
    assert response.status_code == 403
    assert _state(rejected) == before


@pytest.mark.parametrize("who", ["other tester", "moderator", "program admin"])
def test_only_the_owner_may_appeal(web_client, rejected, csrf_token, who):
    # given
    roles = {"other tester": [Role.TESTER], "moderator": [Role.MODERATOR],
             "program admin": [Role.PROGRAM_ADMIN]}[who]
    client = web_client(UserFactory(roles=roles))
    token = csrf_token(client, "/home/")
    before = _state(rejected)

    # when
    response = client.post(f"/clips/{rejected.pk}/appeal/",
                           {"message": MESSAGE, "csrfmiddlewaretoken": token})

    # then
    assert response.status_code == 404
    assert _state(rejected) == before


def test_anonymous_visitors_are_sent_to_sign_in(web_client, rejected, csrf_token):
    # given
    client = web_client()
    token = csrf_token(client)
    before = _state(rejected)

    # when
    response = client.post(f"/clips/{rejected.pk}/appeal/",
                           {"message": MESSAGE, "csrfmiddlewaretoken": token})

    # then
    assert response.status_code == 302
    assert response["Location"] == f"/sign-in/?next=/clips/{rejected.pk}/appeal/"
    assert _state(rejected) == before


def test_an_unknown_clip_is_not_found(web_client, tester, csrf_token):
    # given
    client = web_client(tester)
    token = csrf_token(client, "/home/")

    # when
    response = client.post("/clips/00000000-0000-0000-0000-000000000001/appeal/",
                           {"message": MESSAGE, "csrfmiddlewaretoken": token})

    # then
    assert response.status_code == 404


def test_the_appeal_view_takes_only_posts(web_client, tester, rejected):
    # when
    response = web_client(tester).get(f"/clips/{rejected.pk}/appeal/")

    # then
    assert response.status_code == 405


def test_a_clip_is_appealed_once_only(web_client, tester, rejected, bo, csrf_token):
    # given: appealed, and the appeal upheld
    client = web_client(tester)
    token = csrf_token(client, f"/clips/{rejected.pk}/")
    client.post(f"/clips/{rejected.pk}/appeal/", {"message": MESSAGE,
                                                   "csrfmiddlewaretoken": token})
    _decide(bo, "reject", ["likeness"])
    before = _state(rejected)

    # when
    response = client.post(f"/clips/{rejected.pk}/appeal/",
                           {"message": "Please, again.", "csrfmiddlewaretoken": token},
                           follow=True)

    # then
    assert response.redirect_chain == [(f"/clips/{rejected.pk}/", 302)]
    assert "This clip was already appealed; an appeal is allowed once." in _text(response)
    assert _state(rejected) == before


@pytest.mark.parametrize("outcome", ["approve", None])
def test_only_a_rejection_can_be_appealed(web_client, tester, ada, csrf_token, outcome):
    # given: an approved clip, or one still waiting for review
    clip = _waiting_clip(tester)
    if outcome:
        _decide(ada, outcome)
    client = web_client(tester)
    token = csrf_token(client, f"/clips/{clip.pk}/")
    before = _state(clip)

    # when
    response = client.post(f"/clips/{clip.pk}/appeal/",
                           {"message": MESSAGE, "csrfmiddlewaretoken": token}, follow=True)

    # then
    assert "Only a rejected clip can be appealed." in _text(response)
    assert _state(clip) == before


@pytest.mark.parametrize("message", ["", "   ", None])
def test_an_appeal_needs_a_message(web_client, tester, rejected, csrf_token, message):
    # given
    client = web_client(tester)
    token = csrf_token(client, f"/clips/{rejected.pk}/")
    before = _state(rejected)
    form = {"csrfmiddlewaretoken": token} | ({"message": message} if message is not None
                                              else {})

    # when
    response = client.post(f"/clips/{rejected.pk}/appeal/", form, follow=True)

    # then
    assert "Tell the moderators why: a message is needed." in _text(response)
    assert 'data-testid="appeal-form"' in response.content.decode()
    assert _state(rejected) == before


def test_an_overlong_appeal_is_refused_with_the_limit(web_client, tester, rejected,
                                                      csrf_token):
    # given
    client = web_client(tester)
    token = csrf_token(client, f"/clips/{rejected.pk}/")
    before = _state(rejected)

    # when
    response = client.post(f"/clips/{rejected.pk}/appeal/",
                           {"message": "x" * 2001, "csrfmiddlewaretoken": token}, follow=True)

    # then
    assert "At most 2000 characters." in _text(response)
    assert _state(rejected) == before


def test_a_suspended_program_shuts_the_tester_out_of_appeals(web_client, tester, rejected,
                                                             csrf_token):
    # given
    client = web_client(tester)
    token = csrf_token(client, f"/clips/{rejected.pk}/")
    Program.objects.update(status=ProgramStatus.SUSPENDED, reason="Leak")
    before = _state(rejected)

    # when
    response = client.post(f"/clips/{rejected.pk}/appeal/",
                           {"message": MESSAGE, "csrfmiddlewaretoken": token})

    # then
    assert response.status_code == 403
    assert response.templates[0].name == "accounts/suspended.html"
    assert _state(rejected) == before


def test_a_moderators_expired_claim_does_not_block_the_appeal(web_client, tester, rejected,
                                                              csrf_token):
    # given: a stale lease on the clip from before (expired, never swept)
    Claim.objects.update(ended_at=None, expires_at=clock.now())
    client = web_client(tester)
    token = csrf_token(client, f"/clips/{rejected.pk}/")

    # when
    response = client.post(f"/clips/{rejected.pk}/appeal/",
                           {"message": MESSAGE, "csrfmiddlewaretoken": token})

    # then
    assert response.status_code == 302
    assert Appeal.objects.count() == 1
