"""Pseudonyms: keyed, stable within a study, unrelated across studies."""

import hashlib
import hmac
import re

from django.conf import settings

from audit.research.access import ResearchScope, people, pseudonym
from tests.research.reading import events_api, fetch, pseudonyms


def test_a_pseudonym_is_the_keyed_hash_of_study_and_account(history):
    # when
    name = pseudonym(str(history.study.pk), history.tess.pk)

    # then
    digest = hmac.new(settings.RESEARCH_PSEUDONYM_KEY.encode(),
                      f"{history.study.pk}:{history.tess.pk}".encode(), hashlib.sha256)
    assert name == "u_" + digest.hexdigest()[:16]
    assert re.fullmatch(r"u_[0-9a-f]{16}", name)


def test_without_the_key_trying_every_account_id_recovers_nobody(history):
    # given: an attacker who knows every account id and the scheme, but not the key
    guesses = {"u_" + hashlib.sha256(f"{history.study.pk}:{user.pk}".encode()).hexdigest()[:16]
               for user in history.people}

    # then
    assert guesses.isdisjoint(pseudonyms(history.study).values())


def test_the_same_person_has_one_pseudonym_across_datasets_and_formats(history,
                                                                      researcher_client):
    # when
    events = events_api(researcher_client)
    decisions = fetch(researcher_client, "decisions", "parquet").rows
    submissions = fetch(researcher_client, "submissions", "jsonl").rows

    # then: mia claimed and decided (events) and is the moderator of two decisions
    mia = pseudonyms(history.study)[history.mia.pk]
    assert [row["action"] for row in events if row["actor"] == mia] == [
        "auth.sign_in_failed", "review.claimed", "review.decided", "review.claimed",
        "review.decided"]
    assert [row["moderator"] for row in decisions[:2]] == [mia, mia]
    tess = pseudonyms(history.study)[history.tess.pk]
    assert [row["tester"] for row in submissions] == [
        tess, pseudonyms(history.study)[history.rosa.pk], tess]


def test_two_studies_see_unrelated_pseudonyms(history, as_user):
    # when
    ours = fetch(as_user(history.rita), "decisions", "csv").rows
    theirs = fetch(as_user(history.remy), "decisions", "csv").rows

    # then: the same decisions, by different names, and no name in common
    assert [row["decision_id"] for row in ours] == [row["decision_id"] for row in theirs]
    assert ours[0]["moderator"] != theirs[0]["moderator"]
    names = lambda rows: {row["moderator"] for row in rows}  # noqa: E731
    assert names(ours).isdisjoint(names(theirs))
    assert set(pseudonyms(history.study).values()).isdisjoint(
        pseudonyms(history.other).values())


def test_pseudonyms_are_stable_from_one_request_to_the_next(history, researcher_client):
    # when (each download is logged before it is read, so the second one has one row more)
    first = fetch(researcher_client, "events", "csv").rows
    second = fetch(researcher_client, "events", "csv").rows

    # then
    assert [row["actor"] for row in first] == [row["actor"] for row in second[:len(first)]]
    assert [row["action"] for row in second[len(first):]] == ["research.exported"]
    assert len({row["actor"] for row in first if row["actor_type"] == "user"
                and row["action"] != "research.exported"}) == 5


def test_usernames_are_given_only_with_the_identities_grant(history):
    # given
    scope = ResearchScope(history.study)

    # when
    without = {person.user_id: person.username for person in people(scope)}
    history.study.grant_identities = True
    history.study.save()
    granted = {person.user_id: person.username for person in people(scope)}

    # then
    assert set(without.values()) == {None}
    assert granted[history.tess.pk] == "tess"
