"""The token watch: an API token used from many client addresses, or far above its owner's
usual rate, raises one ``security.token_anomaly`` per hour and, by the program's policy,
alerts the program admins or revokes the token."""

import hashlib
import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import Program, Role, TokenUsage
from accounts.selectors import program_get
from accounts.services import token_watch
from accounts.services.program import program_policy_update
from audit.models import ActorType, Event
from core import clock
from core.errors import InvalidInput
from tests.clocks import ManualClock
from tests.factories import PASSWORD, UserFactory

ME_URL = "/api/v1/me/"
TOKEN_URL = "/api/v1/auth/token/"
START = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
WINDOW_START = "2025-03-04T05:00:00Z"
TOKEN_REVOKED = {
    "code": "auth.token_revoked",
    "message": "This API token was revoked: it was used the way a shared or leaked token is. "
               "Sign in again for a new one.",
}
AUTHENTICATION_FAILED = {
    "code": "auth.authentication_failed",
    "message": "Your credentials were not accepted; sign in again.",
}


@pytest.fixture
def now():
    stepping = ManualClock(START)
    with clock.use(stepping):
        yield stepping


@pytest.fixture
def policy(db):
    """``policy(**fields)``: write the program's token watch policy directly."""

    def write(**fields):
        program_get()  # a transactional test elsewhere may have emptied the table
        Program.objects.filter(pk=Program.SINGLETON_ID).update(**fields)

    return write


@pytest.fixture
def leaked(tester, token_client_of):
    """A tester's token client, as anyone holding the token would use it."""
    return token_client_of(tester)


def me(client, address: str = "127.0.0.1"):
    return client.get(ME_URL, REMOTE_ADDR=address)


def addresses(count: int, first: int = 1) -> list[str]:
    return [f"198.51.100.{number}" for number in range(first, first + count)]


def fingerprint(user) -> str:
    return hashlib.sha256(Token.objects.get(user=user).key.encode()).hexdigest()[:16]


def anomaly_data(**overrides) -> dict:
    return {"token_fingerprint": None, "reason": "distinct_addresses", "observed": 6,
            "threshold": 5, "usual_per_hour": 0.0, "window_start": WINDOW_START,
            "window_s": 3600, "action": "alerted", **overrides}


# --- Distinct addresses ------------------------------------------------------------------


def test_a_token_used_from_more_addresses_than_allowed_raises_one_anomaly(
        tester, leaked, now, events):
    # given the default policy (5 addresses an hour) and a token used from five
    for address in addresses(5):
        assert me(leaked, address).status_code == 200
    assert events() == []
    key_fingerprint = fingerprint(tester)

    # when a sixth address uses it
    now.advance(minutes=3)
    response = me(leaked, "198.51.100.6")

    # then the request goes through (the policy is to alert) and one event says why
    assert response.status_code == 200
    assert events() == ["security.token_anomaly"]
    event = Event.objects.get()
    assert (event.actor_type, event.actor_name, event.actor_id) == (
        ActorType.SYSTEM, "token-watch", None)
    assert (event.subject_type, event.subject_id) == ("accounts.user", str(tester.pk))
    assert event.occurred_at == START + timedelta(minutes=3)
    assert event.data == anomaly_data(token_fingerprint=key_fingerprint)
    assert event.context == {"ip": "198.51.100.6", "user_agent": ""}
    assert Token.objects.filter(user=tester).exists()

    # and more addresses and requests in the same hour add no event
    for address in [*addresses(10, first=7), *addresses(6)]:
        assert me(leaked, address).status_code == 200
    assert events() == ["security.token_anomaly"]


def test_the_token_key_never_reaches_the_event(tester, leaked, now):
    # when
    for address in addresses(6):
        me(leaked, address)

    # then
    key = Token.objects.get(user=tester).key
    event = Event.objects.get()
    assert key not in str(event.data)
    assert key not in str(event.context)


def test_a_token_used_from_as_many_addresses_as_allowed_raises_nothing(tester, leaked, now,
                                                                       events):
    # when five addresses take turns, many times over, within the hour
    for _ in range(4):
        for address in addresses(5):
            assert me(leaked, address).status_code == 200
        now.advance(minutes=10)

    # then
    assert events() == []
    assert Token.objects.filter(user=tester).exists()


def test_addresses_are_counted_per_token(now, token_client_of, events, db):
    # given two testers with tokens, each used from four addresses of the same six
    first, second = UserFactory(roles=[Role.TESTER]), UserFactory(roles=[Role.TESTER])
    for address in addresses(4):
        me(token_client_of(first), address)
    for address in addresses(4, first=3):
        me(token_client_of(second), address)

    # then neither token is over the limit
    assert events() == []


def test_the_address_limit_comes_from_the_policy(tester, leaked, now, policy, events):
    # given a stricter program
    policy(token_max_addresses=2)

    # when
    statuses = [me(leaked, address).status_code for address in addresses(3)]

    # then
    assert statuses == [200, 200, 200]
    assert events() == ["security.token_anomaly"]
    assert Event.objects.get().data == anomaly_data(
        token_fingerprint=fingerprint(tester), observed=3, threshold=2)


def test_addresses_are_counted_per_hour_and_the_count_restarts(tester, leaked, now, events):
    # given five addresses late in one hour
    now.now = datetime(2025, 3, 4, 5, 50, tzinfo=UTC)
    for address in addresses(5):
        me(leaked, address)

    # when five others come early in the next hour
    now.now = datetime(2025, 3, 4, 6, 5, tzinfo=UTC)
    for address in addresses(5, first=6):
        me(leaked, address)

    # then no hour saw more than five
    assert events() == []

    # and a sixth in the new hour is an anomaly of that hour
    me(leaked, "198.51.100.99")
    assert events() == ["security.token_anomaly"]
    assert Event.objects.get().data["window_start"] == "2025-03-04T06:00:00Z"


def test_each_hour_of_misuse_raises_its_own_anomaly(tester, leaked, now, events):
    # when a leaked token is used from many addresses for three hours
    for hour in range(3):
        for address in addresses(8, first=10 * hour):
            me(leaked, address)
        now.advance(hours=1)

    # then one anomaly per hour
    assert events() == ["security.token_anomaly"] * 3
    assert [event.data["window_start"] for event in Event.objects.order_by("id")] == [
        "2025-03-04T05:00:00Z", "2025-03-04T06:00:00Z", "2025-03-04T07:00:00Z"]


def test_one_anomaly_per_hour_even_when_the_cache_forgets(tester, leaked, now, events):
    # given an anomaly in this hour
    for address in addresses(6):
        me(leaked, address)
    assert events() == ["security.token_anomaly"]

    # when the cache loses everything and the token crosses the limit again in the same hour
    cache.clear()
    for address in addresses(6, first=20):
        assert me(leaked, address).status_code == 200

    # then the database still knows this hour had its anomaly
    assert events() == ["security.token_anomaly"]


# --- Rate against the owner's usual rate --------------------------------------------------


def test_a_token_used_far_above_its_owners_usual_rate_raises_an_anomaly(
        tester, leaked, now, policy, events):
    # given an owner who usually makes 4 requests an hour, and a 5x factor with a floor of 10
    TokenUsage.objects.create(user=tester, usual_per_hour=4.0, hours_learned=12)
    policy(token_rate_factor=5, token_rate_floor=10)
    for _ in range(20):
        assert me(leaked).status_code == 200
    assert events() == []

    # when the 21st request of the hour comes
    response = me(leaked)

    # then
    assert response.status_code == 200
    assert events() == ["security.token_anomaly"]
    assert Event.objects.get().data == anomaly_data(
        token_fingerprint=fingerprint(tester), reason="rate", observed=21, threshold=20,
        usual_per_hour=4.0)

    # and the rest of the hour adds none
    for _ in range(5):
        me(leaked)
    assert events() == ["security.token_anomaly"]


def test_a_new_testers_first_burst_up_to_the_floor_is_not_an_anomaly(tester, leaked, now,
                                                                    events):
    # given a tester with no history and the default policy (10x usual, floor 120 an hour)
    for _ in range(120):
        assert me(leaked).status_code == 200
    assert events() == []

    # when
    me(leaked)

    # then
    assert events() == ["security.token_anomaly"]
    assert Event.objects.get().data == anomaly_data(
        token_fingerprint=fingerprint(tester), reason="rate", observed=121, threshold=120)


def test_the_usual_rate_is_learnt_from_hours_of_use(tester, leaked, now, events):
    # given 4 requests in one hour
    for _ in range(4):
        me(leaked)

    # when the token is next used an hour later
    now.advance(hours=1)
    me(leaked)

    # then that hour is the usual rate
    usage = TokenUsage.objects.get(user=tester)
    assert (usage.usual_per_hour, usage.hours_learned) == (4.0, 1)

    # and after 9 requests in that hour (with the one above), three idle hours count for
    # nothing: the next hour of use folds in 9 with weight 0.2
    for _ in range(8):
        me(leaked)
    now.advance(hours=4)
    me(leaked)
    usage.refresh_from_db()
    assert (usage.usual_per_hour, usage.hours_learned) == (5.0, 2)
    assert usage.current_window == datetime(2025, 3, 4, 10, tzinfo=UTC)
    assert events() == []


def test_the_threshold_follows_the_learnt_rate(tester, leaked, now, policy, events):
    # given a learnt usual rate of 30 an hour and a 5x factor: threshold 150 over the floor
    policy(token_rate_factor=5)
    for _ in range(30):
        me(leaked)
    now.advance(hours=1)

    # when 151 requests come in the next hour
    statuses = {me(leaked).status_code for _ in range(151)}

    # then
    assert statuses == {200}
    assert events() == ["security.token_anomaly"]
    assert Event.objects.get().data == anomaly_data(
        token_fingerprint=fingerprint(tester), reason="rate", observed=151, threshold=150,
        usual_per_hour=30.0, window_start="2025-03-04T06:00:00Z")


def test_an_hour_with_an_anomaly_is_not_learnt_from(tester, leaked, now, policy):
    # given a usual rate of 10, and an hour of 200 requests that raised an anomaly
    TokenUsage.objects.create(user=tester, usual_per_hour=10.0, hours_learned=5)
    for _ in range(200):
        me(leaked)
    assert Event.objects.get().data["reason"] == "rate"

    # when the next hour opens
    now.advance(hours=1)
    me(leaked)

    # then the leak did not teach the watch that 200 is usual
    usage = TokenUsage.objects.get(user=tester)
    assert (usage.usual_per_hour, usage.hours_learned) == (10.0, 5)


# --- Policy: revoke ----------------------------------------------------------------------


def test_with_the_revoke_policy_the_crossing_request_is_refused_and_the_token_deleted(
        tester, leaked, now, policy, events):
    # given
    policy(token_anomaly_action="revoke")
    for address in addresses(5):
        assert me(leaked, address).status_code == 200
    key_fingerprint = fingerprint(tester)

    # when a sixth address uses the token
    response = me(leaked, "198.51.100.6")

    # then that very request is refused, and the token is gone
    assert response.status_code == 401
    assert response.json() == TOKEN_REVOKED
    assert response["WWW-Authenticate"] == "Token"
    assert not Token.objects.filter(user=tester).exists()
    assert events() == ["security.token_anomaly", "token.revoked"]
    anomaly, revoked = Event.objects.order_by("id")
    assert anomaly.data == anomaly_data(token_fingerprint=key_fingerprint, action="revoked")
    assert (revoked.actor_type, revoked.actor_name) == (ActorType.SYSTEM, "token-watch")
    assert (revoked.subject_type, revoked.subject_id) == ("accounts.user", str(tester.pk))
    assert revoked.data == {"via": "token_watch"}

    # and every later request with it is refused, from anywhere, recording nothing
    for address in ["198.51.100.1", "198.51.100.7", "127.0.0.1"]:
        again = me(leaked, address)
        assert again.status_code == 401
        assert again.json() == AUTHENTICATION_FAILED
    assert events() == ["security.token_anomaly", "token.revoked"]


def test_after_a_revocation_the_owner_signs_in_again_and_works(tester, leaked, now, policy,
                                                               events):
    # given a token revoked by the watch
    policy(token_anomaly_action="revoke")
    old_key = Token.objects.get(user=tester).key
    for address in addresses(6):
        me(leaked, address)
    assert not Token.objects.filter(user=tester).exists()

    # when the owner signs in again, within the same hour, from their own address
    owner = APIClient(REMOTE_ADDR="203.0.113.5")
    signed_in = owner.post(TOKEN_URL, {"username": tester.username, "password": PASSWORD},
                           format="json")

    # then they get a new token that works, and the hour raises nothing more
    assert signed_in.status_code == 200
    new_key = signed_in.json()["token"]
    assert new_key != old_key
    owner.credentials(HTTP_AUTHORIZATION=f"Token {new_key}")
    assert me(owner, "203.0.113.5").status_code == 200
    assert me(owner, "203.0.113.5").json()["username"] == tester.username
    assert events() == ["security.token_anomaly", "token.revoked", "auth.sign_in_succeeded",
                        "token.created"]


def test_with_the_revoke_policy_a_rate_anomaly_refuses_the_crossing_request(
        tester, leaked, now, policy, events):
    # given
    policy(token_anomaly_action="revoke", token_rate_floor=10)
    key_fingerprint = fingerprint(tester)
    statuses = [me(leaked).status_code for _ in range(10)]

    # when
    response = me(leaked)

    # then
    assert statuses == [200] * 10
    assert response.status_code == 401
    assert response.json() == TOKEN_REVOKED
    assert events() == ["security.token_anomaly", "token.revoked"]
    assert Event.objects.filter(action="security.token_anomaly").get().data == anomaly_data(
        token_fingerprint=key_fingerprint, reason="rate", observed=11, threshold=10,
        action="revoked")


# --- Policy: alert -----------------------------------------------------------------------


@pytest.fixture
def admins(db):
    return [UserFactory(username="ada", email="ada@example.org", roles=[Role.PROGRAM_ADMIN]),
            UserFactory(username="bo", email="bo@example.org", roles=[Role.PROGRAM_ADMIN]),
            UserFactory(username="noemail", email="", roles=[Role.PROGRAM_ADMIN])]


def test_with_the_alert_policy_the_admins_get_one_email_and_the_token_works(
        tester, leaked, now, admins, eager_tasks, django_capture_on_commit_callbacks,
        mailoutbox, events, settings):
    # given a moderator with an address, who is not alerted
    UserFactory(username="mo", email="mo@example.org", roles=[Role.MODERATOR])

    # when the token is used from eight addresses, twice over
    with django_capture_on_commit_callbacks(execute=True):
        statuses = [me(leaked, address).status_code for address in addresses(8) * 2]

    # then the token keeps working and the admins got exactly one e-mail
    assert statuses == [200] * 16
    assert Token.objects.filter(user=tester).exists()
    assert events() == ["security.token_anomaly"]
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["ada@example.org", "bo@example.org"]
    assert mail.from_email == settings.DEFAULT_FROM_EMAIL
    assert mail.subject == f"Token anomaly: the API token of {tester.username}"
    assert mail.body == (
        f"The API token of {tester.username} ({tester.email}) is being used the way a shared "
        "or leaked token is.\n\n"
        "In the hour from 2025-03-04 05:00 UTC it was used from 6 different client addresses; "
        "the program allows 5.\n\n"
        "The token still works: the program's policy is to alert, not to revoke. If it has "
        "leaked, revoke it or suspend the program from the program page:\n\n"
        f"{settings.SITE_URL.rstrip('/')}/program/\n\n"
        "Early Access\n\n")


def test_a_rate_alert_says_the_usual_rate(tester, leaked, now, admins, policy, eager_tasks,
                                         django_capture_on_commit_callbacks, mailoutbox):
    # given
    TokenUsage.objects.create(user=tester, usual_per_hour=2.5, hours_learned=4)
    policy(token_rate_floor=20)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(26):
            me(leaked)

    # then
    assert len(mailoutbox) == 1
    assert ("In the hour from 2025-03-04 05:00 UTC it made 26 requests; the threshold is 25 "
            "(its owner usually makes 2.5 in an hour of use).") in mailoutbox[0].body


def test_no_email_is_sent_when_no_admin_has_an_address(tester, leaked, now, eager_tasks,
                                                      django_capture_on_commit_callbacks,
                                                      mailoutbox, events):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        for address in addresses(6):
            me(leaked, address)

    # then the event is there all the same
    assert events() == ["security.token_anomaly"]
    assert mailoutbox == []


# --- The watch never gets in the way -----------------------------------------------------


def test_counting_asks_the_database_nothing_once_the_hour_is_open(tester, leaked, now):
    # given an hour opened by its first request
    me(leaked, "198.51.100.1")
    watch_sql = ("accounts_tokenusage", "token_max_addresses", "audit_event")

    # when more requests come, then an anomaly, then the rest of the flagged hour
    with CaptureQueriesContext(connection) as steady:
        for address in addresses(4, first=2):
            me(leaked, address)
    me(leaked, "198.51.100.6")
    with CaptureQueriesContext(connection) as flagged:
        for address in addresses(5, first=7):
            me(leaked, address)

    # then only the anomaly itself reached the database
    assert Event.objects.filter(action="security.token_anomaly").count() == 1
    assert [query["sql"] for query in [*steady, *flagged]
            if any(marker in query["sql"] for marker in watch_sql)] == []


@pytest.fixture
def cache_down(settings, monkeypatch):
    """The cache is a Redis server that does not answer (nothing listens on port 1)."""
    settings.CACHES = {"default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
    }}
    monkeypatch.setattr(token_watch, "_last_warning", float("-inf"))


def test_requests_go_through_unwatched_when_the_cache_is_down(
        tester, leaked, now, policy, events, cache_down, caplog):
    # given a policy that would revoke the token
    policy(token_anomaly_action="revoke", token_rate_floor=1)

    # when the token is used from many addresses while the cache is down
    with caplog.at_level(logging.WARNING, logger="accounts.services.token_watch"):
        statuses = [me(leaked, address).status_code for address in addresses(8)]

    # then every request is served, nothing is recorded, and one warning says why
    assert statuses == [200] * 8
    assert Token.objects.filter(user=tester).exists()
    assert events() == []
    assert [record.getMessage().split(" (")[0] for record in caplog.records] == [
        "Token watch skipped: the cache is unavailable"]


def test_session_requests_are_not_counted(tester, web_client, now, policy, events):
    # given a strict policy
    policy(token_max_addresses=1, token_rate_floor=1)
    client = web_client(tester)

    # when the tester uses the API without a token
    statuses = [client.get(ME_URL, REMOTE_ADDR=address).status_code for address in addresses(5)]

    # then
    assert statuses == [200] * 5
    assert events() == []
    assert not TokenUsage.objects.exists()


# --- Races (PostgreSQL, several connections as in production) ----------------------------


@pytest.mark.django_db(transaction=True)
def test_twenty_new_addresses_at_once_raise_one_anomaly_and_one_revocation(postgres, now):
    # given a tester's token and a program that revokes
    tester = UserFactory(roles=[Role.TESTER])
    key = Token.objects.create(user=tester).key
    program_get()
    Program.objects.update(token_anomaly_action="revoke")
    barrier = threading.Barrier(20)
    answers = [None] * 20

    def use(index):
        client = APIClient(REMOTE_ADDR=f"10.0.0.{index + 1}")
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        try:
            barrier.wait(timeout=10)
            response = client.get(ME_URL)
            answers[index] = (response.status_code, response.json().get("code"))
        finally:
            connection.close()

    # when twenty addresses use it at the same moment
    threads = [threading.Thread(target=use, args=(index,)) for index in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # then exactly one request crossed the limit, and it was the one refused as revoking
    assert not any(thread.is_alive() for thread in threads)
    refused = [code for status, code in answers if status == 401]
    assert refused.count("auth.token_revoked") == 1
    assert set(refused) <= {"auth.token_revoked", "auth.authentication_failed"}
    assert {status for status, _ in answers} <= {200, 401}
    assert sorted(Event.objects.values_list("action", flat=True)) == [
        "security.token_anomaly", "token.revoked"]
    assert Event.objects.get(action="security.token_anomaly").data["observed"] == 6
    assert not Token.objects.filter(user=tester).exists()
    assert TokenUsage.objects.get(user=tester).current_window == datetime(
        2025, 3, 4, 5, tzinfo=UTC)


# --- The policy service ------------------------------------------------------------------


@pytest.mark.parametrize(("values", "errors"), [
    ({"status": "suspended"}, {"status": ["This policy field cannot be changed here."]}),
    ({"token_max_addresses": True}, {"token_max_addresses": [
        "Give a whole number between 1 and 10,000."]}),
    ({"token_max_addresses": 2.5}, {"token_max_addresses": [
        "Give a whole number between 1 and 10,000."]}),
    ({"token_rate_factor": "10"}, {"token_rate_factor": ["Give a number between 1 and 1,000."]}),
], ids=["not_a_policy_field", "boolean", "fraction", "string"])
def test_the_policy_service_refuses_what_it_does_not_know(program_admin, events, values,
                                                          errors):
    # given
    program_get()

    # when
    with pytest.raises(InvalidInput) as refused:
        program_policy_update(actor=program_admin, **values)

    # then
    assert refused.value.fields == errors
    assert Program.objects.values("status", "token_max_addresses", "token_rate_factor").get() == {
        "status": "open", "token_max_addresses": 5, "token_rate_factor": 10.0}
    assert events() == []
