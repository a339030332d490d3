"""One benchmark process of ``bench/claims.py``: a moderator who loops claim + approve, either
through the service layer or as raw SQL over psycopg, or an HTTP client of the claim endpoint.

Each process is started with the ``spawn`` method, calls ``django.setup()`` itself, points
Django at the benchmark's throwaway database and waits for commands on a queue, so the same
processes serve every run and no run pays for starting them.
"""

from __future__ import annotations

import http.client
import json
import os
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

LEASE = timedelta(seconds=600)

# The eligible clips, the same rules as review.selectors.clips_claimable_by for a moderator
# (pending, not their own, no live claim, not already decided by them, no open escalation),
# in queue order, written the way the composite index (status, -priority, entered_at) serves.
RAW_PICK = """
SELECT s.id, s.review_entered_at, s.sha256 FROM submissions_submission s
WHERE s.status = 'pending_review' AND s.owner_id <> %(me)s
  AND NOT EXISTS (SELECT 1 FROM review_claim c WHERE c.submission_id = s.id
                  AND c.ended_at IS NULL AND c.expires_at > %(now)s)
  AND NOT EXISTS (SELECT 1 FROM review_decision d WHERE d.submission_id = s.id
                  AND d.moderator_id = %(me)s)
  AND NOT EXISTS (SELECT 1 FROM review_escalation e WHERE e.submission_id = s.id
                  AND e.resolved_at IS NULL)
ORDER BY s.review_priority DESC, s.review_entered_at, s.id
LIMIT 1 FOR UPDATE OF s SKIP LOCKED
"""
RAW_CLAIM = """
INSERT INTO review_claim (id, submission_id, second_opinion_id, track, moderator_id,
                          claimed_at, expires_at, renewals, ended_at, end_reason)
VALUES (%s, %s, NULL, 'primary', %s, %s, %s, 0, NULL, '')
"""
RAW_AUDIT = """
INSERT INTO audit_event (occurred_at, action, actor_type, actor_id, actor_name, actor_role,
                         subject_type, subject_id, data, context)
VALUES (%s, %s, 'user', %s, '', 'moderator', 'submissions.submission', %s, %s, '{}')
RETURNING id
"""
RAW_TAKE = """
UPDATE review_claim SET ended_at = %s, end_reason = 'decided'
WHERE id = %s AND ended_at IS NULL AND expires_at > %s
"""
RAW_DECIDE = """
INSERT INTO review_decision (id, submission_id, claim_id, moderator_id, track, outcome,
                             reasons, taxonomy_version, note_to_tester, internal_note, sha256,
                             is_effective, decided_at)
VALUES (%s, %s, %s, %s, 'primary', 'approve', '[]', %s, '', '', %s, true, %s)
"""
RAW_OPEN = """
SELECT 1 FROM review_claim WHERE submission_id = %s AND ended_at IS NULL AND expires_at > %s
"""
RAW_STATUS = """
UPDATE submissions_submission SET status = 'approved', decided_at = %s
WHERE id = %s AND status = 'pending_review'
"""


def raw_params(settings_dict: dict) -> dict:
    """psycopg.connect() arguments for Django's database settings."""
    return {key: value for key, value in {
        "dbname": settings_dict["NAME"], "host": settings_dict["HOST"],
        "port": settings_dict["PORT"], "user": settings_dict["USER"],
        "password": settings_dict["PASSWORD"]}.items() if value}


class _NotifyStub:
    """Stands in for ``review.tasks.decision_notify``: the benchmark counts the e-mail tasks a
    decision enqueues on commit but sends none to a broker, nor runs them eagerly."""

    def __init__(self) -> None:
        self.calls = 0

    def delay(self, *args, **kwargs) -> None:
        self.calls += 1


def _wait_until(start_at: float) -> None:
    delay = start_at - time.time()
    if delay > 0:
        time.sleep(delay)


class RawLoop:
    """Claim + approve in plain SQL over one psycopg connection (autocommit off)."""

    def __init__(self, connection, moderator_id: int) -> None:
        self.connection, self.me, self.lost_races = connection, moderator_id, 0

    def taxonomy_version(self, cursor) -> int:
        cursor.execute("SELECT max(number) FROM review_taxonomyversion")
        version = cursor.fetchone()[0]
        self.connection.commit()
        return version

    def decide(self, cursor, submission_id, sha256: str, claim_id, claimed_at: datetime,
               taxonomy_version: int) -> bool:
        """Approve under ``claim_id`` and commit: the fenced take, the decision, the status
        move and the decision's event; False (rolled back) when the claim or clip moved on."""
        me, decided_at = self.me, datetime.now(UTC)
        cursor.execute(RAW_TAKE, (decided_at, claim_id, decided_at))
        if cursor.rowcount != 1:
            self.connection.rollback()
            return False
        decision_id = uuid.uuid4()
        cursor.execute(RAW_DECIDE, (decision_id, submission_id, claim_id, me, taxonomy_version,
                                    sha256, decided_at))
        cursor.execute(RAW_STATUS, (decided_at, submission_id))
        if cursor.rowcount != 1:
            self.connection.rollback()
            return False
        cursor.execute(RAW_AUDIT, (decided_at, "review.decided", me, str(submission_id),
                                   json.dumps({
            "decision_id": str(decision_id), "claim_id": str(claim_id), "track": "primary",
            "outcome": "approve", "reasons": [], "taxonomy_version": taxonomy_version,
            "effective": True, "appeal_result": None,
            "held_s": round((decided_at - claimed_at).total_seconds(), 3)})))
        self.connection.commit()
        return True

    def item(self, cursor, taxonomy_version: int) -> bool:
        me = self.me
        now = datetime.now(UTC)
        cursor.execute(RAW_PICK, {"me": me, "now": now})
        row = cursor.fetchone()
        if row is None:
            self.connection.rollback()
            return False
        submission_id, entered_at, sha256 = row
        claim_id, expires_at = uuid.uuid4(), now + LEASE
        cursor.execute(RAW_CLAIM, (claim_id, submission_id, me, now, expires_at))
        cursor.execute(RAW_AUDIT, (now, "review.claimed", me, str(submission_id), json.dumps({
            "claim_id": str(claim_id), "track": "primary", "expires_at": expires_at.isoformat(),
            "waited_s": round((now - entered_at).total_seconds(), 3)})))
        return self.decide(cursor, submission_id, sha256, claim_id, now, taxonomy_version)

    def split_item(self, cursor, taxonomy_version: int) -> bool:
        """The same writes split like the services: a claim transaction, then a decision
        transaction. Once the clip's row lock is released between the two, another
        moderator's query may still see the clip as free (its snapshot predates the claim),
        so after locking, a fresh read re-checks for an open claim before inserting one."""
        me = self.me
        while True:
            now = datetime.now(UTC)
            cursor.execute(RAW_PICK, {"me": me, "now": now})
            row = cursor.fetchone()
            if row is None:
                self.connection.rollback()
                return False
            submission_id, entered_at, sha256 = row
            cursor.execute(RAW_OPEN, (submission_id, now))
            if cursor.fetchone() is None:
                break
            self.connection.rollback()
            self.lost_races += 1
        claim_id, expires_at = uuid.uuid4(), now + LEASE
        cursor.execute(RAW_CLAIM, (claim_id, submission_id, me, now, expires_at))
        cursor.execute(RAW_AUDIT, (now, "review.claimed", me, str(submission_id), json.dumps({
            "claim_id": str(claim_id), "track": "primary", "expires_at": expires_at.isoformat(),
            "waited_s": round((now - entered_at).total_seconds(), 3)})))
        self.connection.commit()
        return self.decide(cursor, submission_id, sha256, claim_id, now, taxonomy_version)


class Moderator:
    def __init__(self, db_name: str, moderator_id: int, token: str) -> None:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
        import django

        django.setup()
        from django.conf import settings
        from django.db import connection, connections

        connections.close_all()  # nothing is inherited under spawn; close anyway, then repoint
        settings.DATABASES["default"]["NAME"] = db_name
        connection.settings_dict["NAME"] = db_name

        import review.tasks
        from accounts.models import User
        from review.services import claims, decisions

        self.notify = _NotifyStub()
        review.tasks.decision_notify = self.notify
        self.claims, self.decisions = claims, decisions
        self.user_model = User
        self.moderator_id, self.token = moderator_id, token
        params = connection.settings_dict
        import psycopg

        self.raw = RawLoop(psycopg.connect(**raw_params(params)), moderator_id)

    # -- the service layer -------------------------------------------------------------
    def service(self, start_at: float, duration: float) -> dict:
        from django.db import IntegrityError, connection

        actor = self.user_model.objects.get(pk=self.moderator_id)
        assert actor.roles  # loaded once, as a signed-in moderator's session would have it
        claim_next, decision_record = self.claims.claim_next, self.decisions.decision_record
        latencies, empty, errors, lost_races = [], 0, {}, 0
        self.notify.calls = 0

        def count_lost_races(execute, sql, params, many, context):
            # claim_next moves on when its claim insert finds the clip already held ("one
            # open claim per clip"): it then reads the open claims, or retries on an error
            nonlocal lost_races
            if sql.startswith('SELECT "review_claim"."id"'):
                lost_races += 1
            try:
                return execute(sql, params, many, context)
            except IntegrityError:
                lost_races += 1
                raise

        _wait_until(start_at)
        end = start_at + duration
        with connection.execute_wrapper(count_lost_races):
            while time.time() < end:
                started = time.perf_counter()
                try:
                    claim = claim_next(actor=actor)
                    if claim is None:
                        empty += 1
                        continue
                    decision_record(actor=actor, claim_id=claim.pk, outcome="approve")
                except Exception as error:  # counted and reported: a moderator would see it
                    cause = error.__cause__ if error.__cause__ is not None else error
                    name = type(cause).__name__
                    errors[name] = errors.get(name, 0) + 1
                    latencies.append(-(time.perf_counter() - started))  # failed: negative
                    continue
                latencies.append(time.perf_counter() - started)
        return {"latencies": latencies, "finished": time.time(), "empty": empty,
                "notified": self.notify.calls, "errors": errors, "lost_races": lost_races}

    # -- the raw SQL loop --------------------------------------------------------------
    def raw_loop(self, start_at: float, duration: float, split: bool = False) -> dict:
        raw = self.raw
        step = raw.split_item if split else raw.item
        raw.lost_races = 0
        with raw.connection.cursor() as cursor:
            taxonomy_version = raw.taxonomy_version(cursor)
            latencies, empty = [], 0
            _wait_until(start_at)
            end = start_at + duration
            while time.time() < end:
                started = time.perf_counter()
                if step(cursor, taxonomy_version):
                    latencies.append(time.perf_counter() - started)
                else:
                    empty += 1
        return {"latencies": latencies, "finished": time.time(), "empty": empty,
                "lost_races": raw.lost_races}

    def raw_split(self, start_at: float, duration: float) -> dict:
        return self.raw_loop(start_at, duration, split=True)

    # -- HTTP --------------------------------------------------------------------------
    def http(self, start_at: float, duration: float, port: int, endpoint: str) -> dict:
        """Loop one endpoint over a keep-alive connection: ``claim`` claims and then decides
        (only the claim request is timed), ``me`` reads GET /api/v1/me/."""
        headers = {"Authorization": f"Token {self.token}", "Content-Type": "application/json"}
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

        def call(method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()

        latencies, statuses = [], {}
        _wait_until(start_at)
        end = start_at + duration
        while time.time() < end:
            started = time.perf_counter()
            if endpoint == "me":
                status, body = call("GET", "/api/v1/me/")
                latencies.append(time.perf_counter() - started)
            else:
                status, body = call("POST", "/api/v1/review/claims/")
                latencies.append(time.perf_counter() - started)
                if status == 201:
                    claim_id = json.loads(body)["id"]
                    decided, _ = call("POST", f"/api/v1/review/claims/{claim_id}/decide/",
                                      b'{"outcome": "approve"}')
                    statuses[f"decide {decided}"] = statuses.get(f"decide {decided}", 0) + 1
            statuses[status] = statuses.get(status, 0) + 1
        connection.close()
        return {"latencies": latencies, "finished": time.time(), "statuses": statuses}


def serve(db_name: str, moderator_id: int, token: str, commands, results) -> None:
    """The process body: build the moderator, then run commands until ``None``."""
    moderator = Moderator(db_name, moderator_id, token)
    results.put(("ready", moderator_id))
    while (command := commands.get()) is not None:
        kind, args = command
        try:
            outcome = getattr(moderator, kind)(*args)
        except Exception as error:  # reported to the parent, which stops the benchmark
            outcome = {"error": f"{type(error).__name__}: {error}"}
        results.put((kind, outcome))
