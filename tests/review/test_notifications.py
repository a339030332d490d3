"""The tester is e-mailed once per effective decision: the outcome, the reasons and the note;
never for an escalation or a second opinion."""

import pytest
from django.conf import settings

from accounts.models import Role
from review.services.decisions import appeal_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def clip(now, tester, make_pending):
    return make_pending(tester, title="Fox study")


@pytest.fixture
def deciding(api, eager_tasks, django_capture_on_commit_callbacks):
    """``deciding(user, outcome, **body)``: claim the next item as ``user`` and decide it,
    running the tasks sent on commit; answers the decision response."""

    def decide(user, outcome, **body):
        claim = api(user).claim().json()["id"]
        with django_capture_on_commit_callbacks(execute=True):
            return api(user).decide(claim, outcome, **body)

    return decide


def page(clip) -> str:
    return f"{settings.SITE_URL.rstrip('/')}/clips/{clip.pk}/"


def test_an_approval_is_mailed_once(clip, ada, deciding, mailoutbox):
    # when
    response = deciding(ada, "approve")

    # then
    assert response.status_code == 201
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert (mail.to, mail.from_email, mail.subject) == (
        ["tess@example.org"], settings.DEFAULT_FROM_EMAIL, "Your clip was approved: Fox study")
    assert mail.body == (
        "Hello tess,\n\n"
        'Your clip "Fox study" passed review. You can now share it from its page.\n\n'
        f"{page(clip)}\n\nEarly Access\n\n")


def test_a_rejection_is_mailed_with_its_reasons_and_note(clip, ada, deciding, mailoutbox):
    # when
    deciding(ada, "reject", reasons=["likeness", "copyright"],
             note_to_tester="The face is a famous actor's.")

    # then
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert (mail.to, mail.subject) == (["tess@example.org"],
                                       "Your clip was not approved: Fox study")
    assert mail.body == (
        "Hello tess,\n\n"
        'Your clip "Fox study" was not approved for sharing.\n\n'
        "Reasons: likeness, copyright\n\n"
        "The face is a famous actor's.\n\n"
        "If you think this is wrong, you can appeal once from the clip's page.\n\n"
        f"{page(clip)}\n\nEarly Access\n\n")


def test_a_rejection_without_a_note_is_mailed_with_the_canned_note(clip, ada, deciding,
                                                                   mailoutbox):
    deciding(ada, "reject", reasons=["violence"])

    assert len(mailoutbox) == 1
    assert mailoutbox[0].body == (
        "Hello tess,\n\n"
        'Your clip "Fox study" was not approved for sharing.\n\n'
        "Reasons: violence\n\n"
        "Your clip shows graphic violence or gore.\n\n"
        "If you think this is wrong, you can appeal once from the clip's page.\n\n"
        f"{page(clip)}\n\nEarly Access\n\n")


def test_an_approval_with_a_note_mails_the_note(clip, ada, deciding, mailoutbox):
    deciding(ada, "approve", note_to_tester="Lovely light; consider a longer cut.")

    assert len(mailoutbox) == 1
    assert mailoutbox[0].body == (
        "Hello tess,\n\n"
        'Your clip "Fox study" passed review. You can now share it from its page.\n\n'
        "Lovely light; consider a longer cut.\n\n"
        f"{page(clip)}\n\nEarly Access\n\n")


def test_an_upheld_appeal_is_mailed_again_without_another_appeal_offer(
        clip, tester, ada, bo, deciding, mailoutbox):
    # given ada's rejection was mailed and the tester appealed
    deciding(ada, "reject", reasons=["likeness"], note_to_tester="A real person.")
    appeal_create(actor=tester, submission=clip, message="It is a fox.")

    # when bo upholds it
    deciding(bo, "reject", reasons=["likeness", "misleading"], note_to_tester="Still a person.")

    # then one e-mail per decision; the second does not offer an appeal
    assert [mail.subject for mail in mailoutbox] == ["Your clip was not approved: Fox study"] * 2
    assert mailoutbox[1].body == (
        "Hello tess,\n\n"
        'Your clip "Fox study" was not approved for sharing.\n\n'
        "Reasons: likeness, misleading\n\n"
        "Still a person.\n\n\n"
        f"{page(clip)}\n\nEarly Access\n\n")


def test_an_overturned_appeal_is_mailed_as_an_approval(clip, tester, ada, bo, deciding,
                                                       mailoutbox):
    deciding(ada, "reject", reasons=["likeness"])
    appeal_create(actor=tester, submission=clip, message="It is a fox.")

    deciding(bo, "approve")

    assert [mail.subject for mail in mailoutbox] == ["Your clip was not approved: Fox study",
                                                     "Your clip was approved: Fox study"]


def test_an_escalation_is_not_mailed_but_the_admins_decision_is(clip, ada, deciding,
                                                                mailoutbox):
    # when ada escalates
    deciding(ada, "escalate", note_to_tester="Checking with the team.")

    # then
    assert mailoutbox == []

    # when a program admin rejects
    deciding(UserFactory(roles=[Role.PROGRAM_ADMIN]), "reject", reasons=["minors"])

    # then
    assert [mail.subject for mail in mailoutbox] == ["Your clip was not approved: Fox study"]


def test_a_rejection_of_an_escalated_first_review_offers_the_appeal(clip, tester, ada,
                                                                   deciding, mailoutbox, api):
    # given ada escalated; a program admin rejects
    deciding(ada, "escalate")
    deciding(UserFactory(roles=[Role.PROGRAM_ADMIN]), "reject", reasons=["minors"])

    # then the tester may appeal, and the e-mail says so
    assert api(tester).appeal(clip.pk).status_code == 200
    assert len(mailoutbox) == 1
    assert mailoutbox[0].body == (
        "Hello tess,\n\n"
        'Your clip "Fox study" was not approved for sharing.\n\n'
        "Reasons: minors\n\n"
        "Your clip depicts minors in a way the program cannot share.\n\n"
        "If you think this is wrong, you can appeal once from the clip's page.\n\n"
        f"{page(clip)}\n\nEarly Access\n\n")


def test_a_second_opinion_is_not_mailed(clip, ada, bo, deciding, policy, mailoutbox):
    # given ada's approval, sampled and mailed
    policy(second_opinion_rate=1.0)
    deciding(ada, "approve")

    # when bo gives the (disagreeing) second opinion
    response = deciding(bo, "reject", reasons=["violence"])

    # then the tester heard only of the approval
    assert response.status_code == 201
    assert [mail.subject for mail in mailoutbox] == ["Your clip was approved: Fox study"]


def test_the_subject_falls_back_to_the_prompt(now, tester, make_pending, ada, deciding,
                                              mailoutbox):
    make_pending(tester, title="", prompt="a slow river under a very long and winding bridge "
                                           "at dusk")

    deciding(ada, "approve")

    assert mailoutbox[0].subject == ("Your clip was approved: a slow river under a very long "
                                     "and winding bridge…")


def test_a_tester_without_an_e_mail_address_is_not_mailed(now, make_pending, ada, deciding,
                                                          mailoutbox):
    make_pending(UserFactory(email="", roles=[Role.TESTER]))

    assert deciding(ada, "approve").status_code == 201
    assert mailoutbox == []


def test_a_refused_decision_sends_nothing(clip, ada, api, now, eager_tasks,
                                          django_capture_on_commit_callbacks, mailoutbox):
    claim = api(ada).claim().json()["id"]
    now.advance(minutes=10)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api(ada).decide(claim, "approve")

    assert response.status_code == 409
    assert callbacks == []
    assert mailoutbox == []
