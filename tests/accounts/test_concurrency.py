"""Races on PostgreSQL (row locks and unique indexes as in production): redemptions, the
program switch and revocation."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import Invitation, Program, ProgramStatus, Role, User
from audit.models import Event
from tests.factories import InvitationFactory, UserFactory

REDEEM_URL = "/api/v1/invitations/redeem/"
THREADS = 20


def post_at_once(path, bodies, user=None):
    """POST every body to ``path`` from its own thread, all released together.

    Each thread has its own client (signed in as ``user`` if given) and client address (so
    the per-address throttles do not interfere) and its own database connection, closed
    when the thread ends. Answers ``(status, JSON body)`` in the order of ``bodies``.
    """
    barrier = threading.Barrier(len(bodies))
    answers = [None] * len(bodies)

    def run(index, body):
        client = APIClient(REMOTE_ADDR=f"10.0.{index // 250}.{index % 250 + 1}")
        if user is not None:
            client.force_authenticate(user)
        try:
            barrier.wait(timeout=10)
            response = client.post(path, body, format="json")
            answers[index] = (response.status_code, response.json())
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, body)) for i, body in enumerate(bodies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    return answers


def redeem_at_once(bodies):
    return post_at_once(REDEEM_URL, bodies)


@pytest.mark.django_db(transaction=True)
def test_one_single_use_code_redeemed_by_twenty_at_once(postgres):
    # given a single-use invitation
    invitation = InvitationFactory(code="one-code-twenty-people")
    users_before = User.objects.count()

    # when twenty people redeem it at the same moment
    answers = redeem_at_once([
        {"code": "one-code-twenty-people", "username": f"racer{i}",
         "email": f"racer{i}@example.org", "password": "a long enough password 1",
         "accept_terms": True}
        for i in range(THREADS)])

    # then exactly one wins
    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] + [400] * (THREADS - 1)
    refusals = [body for status, body in answers if status == 400]
    assert all(body == {"code": "invitation.invalid", "message": (
        "This invitation code is not valid. Ask the program team for a new one.")}
        for body in refusals)
    winner = next(body for status, body in answers if status == 201)["user"]["username"]
    assert User.objects.count() == users_before + 1
    assert User.objects.filter(username__startswith="racer").get().username == winner
    invitation.refresh_from_db()
    assert invitation.uses == 1
    assert sorted(Event.objects.values_list("action", flat=True)) == sorted(
        ["account.created", "invitation.redeemed", "terms.accepted", "token.created"]
        + ["invitation.redemption_refused"] * (THREADS - 1))
    assert set(Event.objects.filter(action="invitation.redemption_refused").values_list(
        "data__reason", flat=True)) == {"used_up"}


@pytest.mark.django_db(transaction=True)
def test_two_invitations_racing_for_one_username(postgres):
    # given two live invitations
    first = InvitationFactory(code="first-code-for-the-race")
    second = InvitationFactory(code="second-code-for-the-race")

    # when two people claim the same username with them at the same moment
    answers = redeem_at_once([
        {"code": code, "username": "samename", "email": f"person{i}@example.org",
         "password": "a long enough password 1", "accept_terms": True}
        for i, code in enumerate(["first-code-for-the-race", "second-code-for-the-race"])])

    # then one wins; the other is told the username is taken and consumes nothing
    assert sorted(status for status, _ in answers) == [201, 400]
    refused = next(body for status, body in answers if status == 400)
    assert refused["code"] == "request.invalid"
    assert list(refused["fields"]) == ["username"]
    assert User.objects.filter(username="samename").count() == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert sorted([first.uses, second.uses]) == [0, 1]
    assert Invitation.objects.filter(uses=1).get().redemptions.get().user.username == "samename"
    assert sorted(Event.objects.values_list("action", flat=True)) == sorted(
        ["account.created", "invitation.redeemed", "terms.accepted", "token.created"])


@pytest.mark.django_db(transaction=True)
def test_ten_admins_suspending_at_once_record_one_suspension(postgres):
    # given an open program and a program admin
    admin = UserFactory(roles=[Role.PROGRAM_ADMIN])

    # when ten requests suspend it at the same moment
    answers = post_at_once("/api/v1/program/suspend/",
                           [{"reason": f"reason {i}"} for i in range(10)], user=admin)

    # then one suspends it; the others find it suspended already
    statuses = [status for status, _ in answers]
    assert sorted(statuses) == [200] + [409] * 9
    assert {body["code"] for status, body in answers if status == 409} == {
        "program.invalid_transition"}
    winner = answers[statuses.index(200)][1]["reason"]
    program = Program.objects.get()
    assert (program.status, program.reason) == (ProgramStatus.SUSPENDED, winner)
    assert list(Event.objects.values_list("action", "data")) == [
        ("program.suspended", {"from_status": "open", "reason": winner})]


@pytest.mark.django_db(transaction=True)
def test_ten_revocations_at_once_record_one(postgres):
    # given a live invitation and a program admin
    admin = UserFactory(roles=[Role.PROGRAM_ADMIN])
    invitation = InvitationFactory()

    # when ten requests revoke it at the same moment
    answers = post_at_once(f"/api/v1/invitations/{invitation.pk}/revoke/", [{}] * 10,
                           user=admin)

    # then
    assert sorted(status for status, _ in answers) == [200] + [409] * 9
    assert {body["code"] for status, body in answers if status == 409} == {
        "invitation.already_revoked"}
    assert list(Event.objects.values_list("action", flat=True)) == ["invitation.revoked"]
