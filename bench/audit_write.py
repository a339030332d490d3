"""The audit write path against a raw INSERT of the same row, one transaction each.

Prints events per second for both and their ratio (audit.record / raw INSERT).
"""

import json
import time

from _setup import django_database

ROUNDS = 3
EVENTS = 3000


def main() -> None:
    with django_database() as connection:
        from django.db import transaction
        from django.utils import timezone

        import audit
        from tests.factories import UserFactory

        user = UserFactory()
        data = {"method": "token"}

        def with_record() -> None:
            with transaction.atomic():
                audit.record("auth.sign_in_succeeded", actor=user, subject=user, data=data)

        sql = ("INSERT INTO audit_event (occurred_at, action, actor_type, actor_id, actor_name, "
               "actor_role, subject_type, subject_id, data, context) "
               "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)")
        payload = json.dumps(data)

        def with_raw_insert() -> None:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, [timezone.now(), "auth.sign_in_succeeded", "user", user.pk,
                                     "", "tester", "accounts.user", str(user.pk), payload, "{}"])

        def rate(step) -> float:
            started = time.perf_counter()
            for _ in range(EVENTS):
                step()
            return EVENTS / (time.perf_counter() - started)

        best_record = best_raw = 0.0
        for _ in range(ROUNDS):  # interleaved, best of each, to damp machine noise
            best_raw = max(best_raw, rate(with_raw_insert))
            best_record = max(best_record, rate(with_record))
        print(f"database: {connection.vendor}; {EVENTS} events x {ROUNDS} rounds, best round")
        print(f"raw INSERT:    {best_raw:9.0f} events/s")
        print(f"audit.record:  {best_record:9.0f} events/s")
        print(f"ratio audit.record / raw INSERT = {best_record / best_raw:.2f}x")


if __name__ == "__main__":
    main()
