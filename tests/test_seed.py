"""``manage.py seed``: the demo program, created through the real services, once."""

from collections import Counter

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Cohort, User
from audit.models import Event

DEMO_USERS = {
    # username: (groups, cohort, is_superuser, is_staff)
    "admin": (["program_admin"], "creative-partners", True, True),
    "mod-ada": (["moderator"], "creative-partners", False, False),
    "mod-bo": (["moderator"], "red-team", False, False),
    "researcher": (["researcher"], "creative-partners", False, False),
    "tess": (["tester"], "creative-partners", False, False),
    "theo": (["tester"], "creative-partners", False, False),
    "tara": (["tester"], "creative-partners", False, False),
    "rosa": (["tester"], "red-team", False, False),
    "rex": (["tester"], "red-team", False, False),
}

EXPECTED_EVENTS = {
    "cohort.created": 2,
    "account.created": 9,
    "invitation.created": 8,
    "invitation.redeemed": 8,
    "terms.accepted": 9,
    "token.created": 8,
    "research.study_saved": 1,
}


def _users() -> dict:
    return {
        user.username: (sorted(user.groups.values_list("name", flat=True)), user.cohort.slug,
                        user.is_superuser, user.is_staff)
        for user in User.objects.select_related("cohort")
    }


def test_seed_creates_the_demo_program(db, capsys):
    # when
    call_command("seed")

    # then
    assert list(Cohort.objects.values_list("slug", "name")) == [
        ("creative-partners", "Creative partners"), ("red-team", "Red team")]
    assert _users() == DEMO_USERS
    assert all(user.check_password("early-access-demo") for user in User.objects.all())
    output = capsys.readouterr().out
    assert output.startswith("Demo program ready. Sign in with:\n")
    listed = [line.split()[0] for line in output.splitlines()[1:]]
    assert listed == ["admin", "mod-ada", "mod-bo", "researcher", "tess", "theo", "tara",
                      "rosa", "rex"]


def test_seed_records_the_demo_through_the_audit_log(db):
    # when
    call_command("seed")

    # then
    assert Counter(Event.objects.values_list("action", flat=True)) == EXPECTED_EVENTS
    created = Event.objects.filter(action__in=["cohort.created", "account.created"])
    admin = User.objects.get(username="admin")
    assert [(event.action, event.actor_type, event.actor_name)
            for event in created[:3]] == [("cohort.created", "system", "seed"),
                                         ("cohort.created", "system", "seed"),
                                         ("account.created", "system", "seed")]
    assert Event.objects.get(action="account.created", subject_id=str(admin.pk)).data == {
        "roles": ["program_admin"], "cohort": "creative-partners", "invitation_id": None,
        "superuser": True}
    assert set(Event.objects.filter(action="invitation.created")
               .values_list("actor_id", "actor_role")) == {(admin.pk, "program_admin")}


def test_the_seeded_testers_joined_by_invitation(db):
    # when
    call_command("seed")

    # then: each non-admin account redeemed its own single-use invitation
    redeemed = {
        user.username: (user.redemption.invitation.role, user.redemption.invitation.cohort.slug,
                        user.redemption.invitation.uses)
        for user in User.objects.exclude(username="admin").select_related(
            "redemption__invitation__cohort")
    }
    assert redeemed == {username: (groups[0], cohort, 1)
                        for username, (groups, cohort, _su, _staff) in DEMO_USERS.items()
                        if username != "admin"}


def test_seeding_twice_changes_nothing(db, capsys):
    # given
    call_command("seed")
    users, events = _users(), list(Event.objects.values_list("id", "action"))

    # when
    call_command("seed")

    # then
    assert _users() == users
    assert User.objects.count() == 9
    assert list(Event.objects.values_list("id", "action")) == events
    assert capsys.readouterr().out.count("Demo program ready.") == 2


def test_seed_takes_another_password(db):
    # when
    call_command("seed", "--password", "another demo password 9")

    # then
    assert User.objects.get(username="tess").check_password("another demo password 9")


def test_seed_refuses_where_demo_accounts_are_not_allowed(db, settings):
    # given
    settings.DEMO_SEED_ALLOWED = False

    # when / then
    with pytest.raises(CommandError, match="DEMO_SEED_ALLOWED is off"):
        call_command("seed")
    assert (User.objects.count(), Cohort.objects.count(), Event.objects.count()) == (0, 0, 0)


def test_seed_gives_each_tester_generated_clips_for_the_queue(db):
    # when
    call_command("seed", clips=2)

    # then each of the five testers has a draft and a submitted clip, rendered and processed
    # for real, and the moderators decided the first three in the queue
    from review.models import Escalation
    from submissions.models import Submission

    rows = list(Submission.objects.filter(submitted_at__isnull=False)
                .order_by("review_entered_at").values_list("owner__username", "status"))
    assert rows == [("tess", "approved"), ("theo", "rejected"), ("tara", "pending_review"),
                    ("rosa", "pending_review"), ("rex", "pending_review")]
    assert Submission.objects.filter(submitted_at__isnull=True, status="draft").count() == 5
    assert list(Escalation.objects.values_list("submission__owner__username", flat=True)) == [
        "tara"]
    assert all(Submission.objects.values_list("sha256", flat=True))
    counts = Counter(Event.objects.values_list("action", flat=True))
    assert (counts["submission.created"], counts["submission.generated"],
            counts["submission.submitted"], counts["submission.processed"],
            counts["review.decided"]) == (10, 10, 5, 5, 3)

    # and running it again makes no more clips
    call_command("seed", clips=2)
    assert Submission.objects.count() == 10
