"""Decisions under a claim: approve, reject with reasons, escalate; bad input; the fencing
token that refuses late, duplicate and foreign decisions without changing anything."""

from datetime import timedelta
from uuid import UUID

import pytest
from django.db import connection

from accounts.models import Role
from review.models import Claim, ClaimEnd, Decision, Escalation, Track
from review.services.taxonomy import reason_save
from review.taxonomy_defaults import REASONS
from submissions.models import Submission, SubmissionStatus
from tests.factories import UserFactory
from tests.review.conftest import LEASE_LOST, T0, iso

pytestmark = pytest.mark.django_db

CANNED = {code: canned for code, _, _, canned in REASONS}


@pytest.fixture
def clip(now, tester, make_pending):
    return make_pending(tester, title="Fox study")


@pytest.fixture
def claim_id(clip, api, ada):
    """Ada's claim on the clip, taken at T0."""
    response = api(ada).claim()
    assert response.status_code == 201
    return response.json()["id"]


def test_approve(now, clip, claim_id, api, ada, event_mark, recorded):
    # given ada has held the clip for 42 s
    now.advance(seconds=42)
    mark = event_mark()
    moment = T0 + timedelta(seconds=42)

    # when
    response = api(ada).decide(claim_id, "approve")

    # then
    assert response.status_code == 201
    decision = Decision.objects.get()
    assert response.json() == {"id": str(decision.pk), "outcome": "approve", "reasons": [],
                               "decided_at": iso(moment)}
    clip.refresh_from_db()
    assert (clip.status, clip.decided_at) == (SubmissionStatus.APPROVED, moment)
    assert (decision.submission, decision.claim_id, decision.moderator, decision.track,
            decision.outcome, decision.reasons, decision.taxonomy_version,
            decision.note_to_tester, decision.internal_note, decision.sha256,
            decision.is_effective, decision.decided_at) == (
        clip, UUID(claim_id), ada, Track.PRIMARY, "approve", [], 1, "", "", clip.sha256, True,
        moment)
    claim = Claim.objects.get()
    assert (claim.ended_at, claim.end_reason) == (moment, ClaimEnd.DECIDED)
    assert recorded(mark) == [("review.decided", ada.pk, str(clip.pk), {
        "decision_id": str(decision.pk), "claim_id": claim_id, "track": "primary",
        "outcome": "approve", "reasons": [], "taxonomy_version": 1, "effective": True,
        "appeal_result": None, "held_s": 42.0})]


def test_the_tester_sees_the_decision_on_the_detail(now, clip, claim_id, api, ada, tester):
    # given
    api(ada).decide(claim_id, "reject", reasons=["likeness", "copyright"],
                    note_to_tester="  Real person and a logo.  ")

    # when
    detail = api(tester).detail(clip.pk).json()

    # then
    assert (detail["status"], detail["decided_at"], detail["appealed"]) == (
        "rejected", iso(T0), False)
    assert detail["decision"] == {"outcome": "reject", "reasons": ["likeness", "copyright"],
                                  "note_to_tester": "Real person and a logo.",
                                  "decided_at": iso(T0)}


def test_a_decision_records_the_taxonomy_version_in_force(now, clip, claim_id, api, ada, pat):
    # given a program admin edited a reason after the claim (version 2)
    reason_save(actor=pat, code="likeness", label="Likeness", description="A real person.",
                canned_response="Real people are not shared.")

    # when
    api(ada).decide(claim_id, "reject", reasons=["likeness"])

    # then
    decision = Decision.objects.get()
    assert (decision.taxonomy_version, decision.note_to_tester) == (
        2, "Real people are not shared.")


def test_reject_with_reasons_and_a_note(now, clip, claim_id, api, ada, event_mark, recorded):
    mark = event_mark()

    response = api(ada).decide(claim_id, "reject", reasons=["violence", "other"],
                               note_to_tester="Too much gore.", internal_note="  borderline ")

    assert response.status_code == 201
    decision = Decision.objects.get()
    assert response.json() == {"id": str(decision.pk), "outcome": "reject",
                               "reasons": ["violence", "other"], "decided_at": iso(T0)}
    assert (decision.reasons, decision.note_to_tester, decision.internal_note) == (
        ["violence", "other"], "Too much gore.", "borderline")
    clip.refresh_from_db()
    assert clip.status == SubmissionStatus.REJECTED
    assert recorded(mark) == [("review.decided", ada.pk, str(clip.pk), {
        "decision_id": str(decision.pk), "claim_id": claim_id, "track": "primary",
        "outcome": "reject", "reasons": ["violence", "other"], "taxonomy_version": 1,
        "effective": True, "appeal_result": None, "held_s": 0.0})]


@pytest.mark.parametrize("note", [None, "", "   "])
def test_reject_without_a_note_sends_the_reasons_canned_notes(note, now, clip, claim_id, api,
                                                               ada):
    body = {"reasons": ["likeness", "copyright"]}
    if note is not None:
        body["note_to_tester"] = note

    response = api(ada).decide(claim_id, "reject", **body)

    assert response.status_code == 201
    assert Decision.objects.get().note_to_tester == (
        CANNED["likeness"] + "\n\n" + CANNED["copyright"])


def test_repeated_reasons_count_once(now, clip, claim_id, api, ada):
    response = api(ada).decide(claim_id, "reject", reasons=["likeness", "likeness"])

    assert response.json()["reasons"] == ["likeness"]
    assert Decision.objects.get().note_to_tester == CANNED["likeness"]


@pytest.mark.parametrize("body", [{}, {"reasons": []}, {"reasons": [], "note_to_tester": "x"}])
def test_reject_without_a_reason_is_400_reason_required(body, now, clip, claim_id, api, ada,
                                                         review_state):
    before = review_state()

    response = api(ada).decide(claim_id, "reject", **body)

    assert response.status_code == 400
    assert response.json() == {"code": "review.reason_required",
                               "message": "Give at least one reason when rejecting.",
                               "fields": {"reasons": ["Give at least one reason when "
                                                      "rejecting."]}}
    assert review_state() == before


@pytest.mark.parametrize("outcome", ["reject", "approve", "escalate"])
def test_an_unknown_reason_is_400_naming_reasons(outcome, now, clip, claim_id, api, ada,
                                                  review_state):
    before = review_state()

    response = api(ada).decide(claim_id, outcome, reasons=["likeness", "ugly-hat"])

    assert response.status_code == 400
    assert response.json() == {"code": "request.invalid", "message": "Some fields are not valid.",
                               "fields": {"reasons": ["Unknown reason code: ugly-hat."]}}
    assert review_state() == before


def test_a_retired_reason_is_unknown(now, clip, claim_id, api, ada, pat, review_state):
    # given a program admin retired "quality"
    reason_save(actor=pat, code="quality", label="Quality", description="",
                canned_response="Not representative.", is_active=False)
    before = review_state()

    response = api(ada).decide(claim_id, "reject", reasons=["quality"])

    assert response.status_code == 400
    assert response.json()["fields"] == {"reasons": ["Unknown reason code: quality."]}
    assert review_state() == before


@pytest.mark.parametrize(("body", "fields"), [
    ({"outcome": "maybe"}, {"outcome": ['"maybe" is not a valid choice.']}),
    ({"outcome": ""}, {"outcome": ['"" is not a valid choice.']}),
    ({}, {"outcome": ["This field is required."]}),
    ({"outcome": "reject", "reasons": "likeness"},
     {"reasons": ['Expected a list of items but got type "str".']}),
    ({"outcome": "reject", "reasons": ["x" * 21] * 21},
     {"reasons": ["Ensure this field has no more than 20 elements."]}),
    ({"outcome": "approve", "note_to_tester": "x" * 4001},
     {"note_to_tester": ["Ensure this field has no more than 4000 characters."]}),
])
def test_bad_input_is_400_naming_the_field(body, fields, now, clip, claim_id, api, ada,
                                           review_state):
    before = review_state()

    response = api(ada).client.post(f"/api/v1/review/claims/{claim_id}/decide/", body,
                                    format="json")

    assert response.status_code == 400
    assert response.json() == {"code": "request.invalid", "message": "Some fields are not valid.",
                               "fields": fields}
    assert review_state() == before


def test_a_reason_that_is_not_a_code_is_400_with_a_readable_message(now, clip, claim_id, api,
                                                                   ada, review_state):
    before = review_state()

    response = api(ada).decide(claim_id, "reject", reasons=["not a slug!"])

    assert response.status_code == 400
    assert review_state() == before
    assert response.json() == {"code": "request.invalid", "message": "Some fields are not valid.",
                               "fields": {"reasons": [
                                   'Enter a valid "slug" consisting of letters, numbers, '
                                   'underscores or hyphens.']}}


@pytest.mark.parametrize("late_by_s", [0, 1, 86400])
def test_decide_after_expiry_is_409_and_changes_nothing(late_by_s, now, clip, claim_id, api,
                                                        ada, review_state):
    # given ada's lease ran out
    now.advance(seconds=600 + late_by_s)
    before = review_state()

    # when
    response = api(ada).decide(claim_id, "approve")

    # then
    assert response.status_code == 409
    assert response.json() == LEASE_LOST
    assert review_state() == before


def test_a_decision_that_started_before_expiry_but_writes_after_is_409(
        now, clip, claim_id, api, ada, review_state):
    # given ada's lease has one second left when her request reads the claim, and time
    # passes the expiry before the conditional update runs
    now.advance(seconds=599)
    before = review_state()

    def late(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if sql.lstrip().upper().startswith("SELECT") and '"review_claim"' in sql:
            now.now = T0 + timedelta(seconds=601)
        return result

    # when
    with connection.execute_wrapper(late):
        response = api(ada).decide(claim_id, "approve")

    # then the read found the claim live, yet nothing was written
    assert now.now == T0 + timedelta(seconds=601)
    assert response.status_code == 409
    assert response.json() == LEASE_LOST
    assert review_state() == before


def test_a_late_decision_loses_to_the_next_holders(now, clip, claim_id, api, ada, bo,
                                                   review_state):
    # given ada's lease ran out, bo claimed the clip and rejected it
    now.advance(minutes=11)
    bo_claim = api(bo).claim().json()["id"]
    api(bo).decide(bo_claim, "reject", reasons=["misleading"])
    before = review_state()

    # when ada's late approval arrives
    response = api(ada).decide(claim_id, "approve")

    # then bo's rejection stands
    assert response.status_code == 409
    assert response.json() == LEASE_LOST
    assert review_state() == before
    assert list(Decision.objects.values_list("moderator__username", "outcome", "is_effective")) \
        == [("bo", "reject", True)]


@pytest.mark.parametrize("second", ["approve", "reject"])
def test_a_second_decision_on_the_same_claim_is_409_and_changes_nothing(
        second, now, clip, claim_id, api, ada, review_state):
    # given ada approved
    assert api(ada).decide(claim_id, "approve").status_code == 201
    before = review_state()

    # when she decides again on the same claim
    response = api(ada).decide(claim_id, second, reasons=["likeness"])

    # then
    assert response.status_code == 409
    assert response.json() == LEASE_LOST
    assert review_state() == before


def test_a_decision_after_release_is_409(now, clip, claim_id, api, ada, review_state):
    api(ada).release(claim_id)
    before = review_state()

    response = api(ada).decide(claim_id, "approve")

    assert (response.status_code, response.json()) == (409, LEASE_LOST)
    assert review_state() == before


@pytest.mark.parametrize("caller", ["bo", "pat"])
def test_deciding_on_someone_elses_claim_is_404_and_changes_nothing(
        caller, now, clip, claim_id, api, bo, pat, review_state):
    before = review_state()

    response = api({"bo": bo, "pat": pat}[caller]).decide(claim_id, "approve")

    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "No such claim of yours."}
    assert review_state() == before


def test_deciding_on_a_clip_withdrawn_while_claimed_is_409_and_changes_nothing(
        now, clip, claim_id, api, ada, tester, review_state):
    # given the tester withdrew the clip while ada held it
    assert api(tester).client.post(f"/api/v1/submissions/{clip.pk}/withdraw/").status_code \
        == 200
    before = review_state()

    # when
    response = api(ada).decide(claim_id, "reject", reasons=["likeness"])

    # then
    assert response.status_code == 409
    assert response.json() == {
        "code": "review.lease_lost",
        "message": "This clip is no longer waiting for review (it was withdrawn)."}
    assert review_state() == before
    assert Submission.objects.get().status == SubmissionStatus.WITHDRAWN


def test_escalate_sends_the_clip_to_the_program_admins(now, clip, claim_id, api, ada, bo,
                                                       event_mark, recorded):
    mark = event_mark()

    # when ada escalates
    response = api(ada).decide(claim_id, "escalate", internal_note="Is this a real person?")

    # then the clip stays waiting, with an open escalation and an ineffective decision
    assert response.status_code == 201
    decision = Decision.objects.get()
    assert response.json() == {"id": str(decision.pk), "outcome": "escalate", "reasons": [],
                               "decided_at": iso(T0)}
    clip.refresh_from_db()
    assert (clip.status, clip.decided_at) == (SubmissionStatus.PENDING_REVIEW, None)
    assert (decision.outcome, decision.is_effective, decision.internal_note) == (
        "escalate", False, "Is this a real person?")
    escalation = Escalation.objects.get()
    assert (escalation.submission, escalation.decision, escalation.created_at,
            escalation.resolved_at) == (clip, decision, T0, None)
    assert recorded(mark) == [("review.decided", ada.pk, str(clip.pk), {
        "decision_id": str(decision.pk), "claim_id": claim_id, "track": "primary",
        "outcome": "escalate", "reasons": [], "taxonomy_version": 1, "effective": False,
        "appeal_result": None, "held_s": 0.0})]
    # and moderators no longer get it
    assert api(bo).claim().status_code == 204
    assert api(ada).detail(clip.pk).json()["decision"] is None


@pytest.mark.parametrize("outcome", ["approve", "reject"])
def test_the_program_admins_decision_on_an_escalation_is_effective_and_resolves_it(
        outcome, now, clip, claim_id, api, ada, pat, event_mark, recorded):
    # given ada escalated; a program admin claims it ten minutes later
    api(ada).decide(claim_id, "escalate")
    now.advance(minutes=10)
    claim = api(pat).claim().json()
    assert (claim["track"], claim["submission"]["id"]) == ("escalation", str(clip.pk))
    now.advance(seconds=30)
    mark = event_mark()

    # when
    response = api(pat).decide(claim["id"], outcome, reasons=["likeness"])

    # then
    moment = T0 + timedelta(minutes=10, seconds=30)
    assert response.status_code == 201
    decision = Decision.objects.get(pk=response.json()["id"])
    assert (decision.track, decision.is_effective, decision.moderator) == (
        Track.ESCALATION, True, pat)
    clip.refresh_from_db()
    assert (clip.status, clip.decided_at) == ({"approve": "approved", "reject": "rejected"}[
        outcome], moment)
    assert Escalation.objects.get().resolved_at == moment
    reasons = ["likeness"]
    assert recorded(mark) == [("review.decided", pat.pk, str(clip.pk), {
        "decision_id": str(decision.pk), "claim_id": claim["id"], "track": "escalation",
        "outcome": outcome, "reasons": reasons, "taxonomy_version": 1, "effective": True,
        "appeal_result": None, "held_s": 30.0})]
    assert list(Decision.objects.order_by("decided_at").values_list(
        "outcome", "is_effective")) == [("escalate", False), (outcome, True)]


def test_escalate_on_an_escalation_claim_is_400_and_changes_nothing(
        now, clip, claim_id, api, ada, pat, review_state):
    api(ada).decide(claim_id, "escalate")
    pat_claim = api(pat).claim().json()["id"]
    before = review_state()

    response = api(pat).decide(pat_claim, "escalate")

    assert response.status_code == 400
    assert response.json() == {"code": "request.invalid", "message": "Some fields are not valid.",
                               "fields": {"outcome": [
                                   "Escalation items take one of approve, reject."]}}
    assert review_state() == before


def test_escalate_on_a_second_opinion_claim_is_400_and_changes_nothing(
        now, tester, make_pending, decided, api, bo, policy, review_state):
    # given bo's approval was sampled for a second opinion, claimed by carl
    policy(second_opinion_rate=1.0)
    decided(bo, make_pending(tester), "approve", reasons=())
    carl = UserFactory(roles=[Role.MODERATOR])
    claim = api(carl).claim().json()
    assert claim["track"] == "second_opinion"
    before = review_state()

    # when
    response = api(carl).decide(claim["id"], "escalate")

    # then
    assert response.status_code == 400
    assert response.json()["fields"] == {"outcome": [
        "Second opinion items take one of approve, reject."]}
    assert review_state() == before


def test_an_appeal_may_be_escalated(now, tester, make_pending, decided, api, bo, pat):
    # given ada rejected, the tester appealed, and bo escalates the appeal
    from review.services.decisions import appeal_create

    ada = UserFactory(roles=[Role.MODERATOR])
    clip = make_pending(tester)
    decided(ada, clip, "reject")
    appeal_create(actor=tester, submission=clip, message="Look again.")
    claim = api(bo).claim().json()
    assert claim["track"] == "appeal"
    assert api(bo).decide(claim["id"], "escalate").status_code == 201

    # when the program admin overturns it
    admin_claim = api(pat).claim().json()
    response = api(pat).decide(admin_claim["id"], "approve")

    # then the escalation decision settles the appeal
    assert (admin_claim["track"], response.status_code) == ("escalation", 201)
    clip.refresh_from_db()
    assert clip.status == SubmissionStatus.APPROVED
    assert (clip.appeal.result, clip.appeal.decision_id) == (
        "overturned", UUID(response.json()["id"]))
