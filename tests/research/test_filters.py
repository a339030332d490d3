"""Export and list filters: exactly the rows asked for, and a 400 naming every bad value."""

import pytest

from tests.research.reading import events_api, export_url, fetch, pseudonyms

INVALID = {"code": "request.invalid", "message": "Some fields are not valid."}


def _events(client, **params) -> list[tuple[str, str | None]]:
    return [(row["action"], row["subject_id"])
            for row in fetch(client, "events", "jsonl", **params).rows]


def test_since_is_inclusive_and_until_exclusive(history, researcher_client):
    # when
    rows = _events(researcher_client, since="2025-03-04T09:10:00Z",
                   until="2025-03-04T09:12:00Z")

    # then
    clip_a = str(history.clip_a.pk)
    assert rows == [("review.claimed", clip_a), ("review.decided", clip_a)]


def test_times_with_an_offset_and_plain_dates_are_read_as_utc(history, researcher_client):
    # when
    offset = _events(researcher_client, since="2025-03-04T10:10:00+01:00",
                     until="2025-03-04T10:12:00+01:00")
    whole_day = _events(researcher_client, since="2025-03-04", until="2025-03-05")
    before = _events(researcher_client, until="2025-03-04")

    # then
    assert [action for action, _ in offset] == ["review.claimed", "review.decided"]
    history_day = _events(researcher_client, until="2025-03-05")
    assert len(whole_day) == len(history_day) > 0
    assert before == []


def test_action_selects_one_action(history, researcher_client):
    # when
    rows = fetch(researcher_client, "events", "csv", action="review.decided").rows

    # then
    assert [row["data"]["decision_id"] for row in rows] == [
        str(history.rejection.pk), str(history.approval.pk), str(history.second.pk),
        str(history.overturn.pk)]


def test_cohort_selects_its_members_and_its_clips(history, researcher_client):
    # when
    rows = _events(researcher_client, cohort="red-team")

    # then: rosa's sign-in, and everything that happened to her clip
    rosa, clip_b = pseudonyms(history.study)[history.rosa.pk], str(history.clip_b.pk)
    assert rows == [("auth.sign_in_succeeded", rosa), ("review.claimed", clip_b),
                    ("review.decided", clip_b), ("review.second_opinion_requested", clip_b),
                    ("review.claimed", clip_b), ("review.decided", clip_b)]


def test_subject_id_takes_a_clip_or_a_pseudonym(history, researcher_client):
    # when
    clip = _events(researcher_client, subject_id=str(history.clip_a.pk))
    tess = pseudonyms(history.study)[history.tess.pk]
    person = _events(researcher_client, subject_id=tess)
    stranger = _events(researcher_client, subject_id="u_0123456789abcdef")

    # then
    assert [action for action, _ in clip] == [
        "review.claimed", "review.decided", "submission.appealed", "review.claimed",
        "review.decided", "submission.shared"]
    assert person == [("account.created", tess), ("terms.accepted", tess),
                      ("token.created", tess)]
    assert stranger == []


def test_a_pseudonym_of_another_study_selects_nothing(history, researcher_client):
    # when
    theirs = pseudonyms(history.other)[history.tess.pk]

    # then
    assert _events(researcher_client, subject_id=theirs) == []


def test_filters_combine(history, researcher_client):
    # when
    rows = fetch(researcher_client, "events", "parquet", action="review.decided",
                 cohort="red-team").rows

    # then
    assert [row["data"]["decision_id"] for row in rows] == [
        str(history.approval.pk), str(history.second.pk)]


@pytest.mark.parametrize(("params", "clips"), [
    ({"cohort": "red-team"}, ["clip_b"]),
    ({"since": "2025-03-04T09:02:00Z"}, ["clip_b", "clip_c"]),
    ({"until": "2025-03-04T09:02:00Z"}, ["clip_a"]),
    ({"subject_id": "CLIP_C"}, ["clip_c"]),
])
def test_submissions_filters(params, clips, history, researcher_client):
    # given
    params = {name: str(history.clip_c.pk) if value == "CLIP_C" else value
              for name, value in params.items()}

    # when
    rows = fetch(researcher_client, "submissions", "csv", **params).rows

    # then
    assert [row["submission_id"] for row in rows] == [
        str(getattr(history, clip).pk) for clip in clips]


@pytest.mark.parametrize(("params", "decisions"), [
    ({"cohort": "creative-partners"}, ["rejection", "overturn"]),
    ({"until": "2025-03-04T09:14:00Z"}, ["rejection", "approval"]),
    ({"since": "2025-03-04T09:13:30Z"}, ["approval", "second", "overturn"]),
    ({"subject_id": "CLIP_B"}, ["approval", "second"]),
])
def test_decisions_filters(params, decisions, history, researcher_client):
    # given
    params = {name: str(history.clip_b.pk) if value == "CLIP_B" else value
              for name, value in params.items()}

    # when
    rows = fetch(researcher_client, "decisions", "jsonl", **params).rows

    # then
    assert [row["decision_id"] for row in rows] == [
        str(getattr(history, decision).pk) for decision in decisions]


def test_the_events_api_takes_the_same_filters(history, researcher_client):
    # when
    listed = events_api(researcher_client, cohort="red-team", action="review.claimed")
    exported = fetch(researcher_client, "events", "csv", cohort="red-team",
                     action="review.claimed").rows

    # then
    assert listed == exported
    assert len(listed) == 2


@pytest.mark.parametrize(("path", "params", "fields"), [
    ("events.csv", {"since": "yesterday"},
     {"since": ["Give an ISO 8601 date-time or date, such as 2025-03-04T05:06:07Z or "
                "2025-03-04."]}),
    ("events.csv", {"until": "2025-02-30"},
     {"until": ["Give an ISO 8601 date-time or date, such as 2025-03-04T05:06:07Z or "
                "2025-03-04."]}),
    ("decisions.jsonl", {"since": "2025-03-05", "until": "2025-03-04"},
     {"until": ["Must be later than since."]}),
    ("events.parquet", {"action": "review.nodded"},
     {"action": ["No such action; see docs/audit-events.md."]}),
    ("submissions.csv", {"action": "review.decided"},
     {"action": ["The submissions dataset has no action filter."]}),
    ("decisions.csv", {"cohort": "nobody"}, {"cohort": ["No cohort with this slug."]}),
    ("decisions.csv", {"subject_id": "not-a-uuid"},
     {"subject_id": ["Must be a clip's id (a UUID)."]}),
    ("events.jsonl", {"subject_id": "x" * 65}, {"subject_id": ["At most 64 characters."]}),
    ("events.csv", {"since": "soon", "cohort": "nobody", "action": "nope"},
     {"since": ["Give an ISO 8601 date-time or date, such as 2025-03-04T05:06:07Z or "
                "2025-03-04."],
      "cohort": ["No cohort with this slug."],
      "action": ["No such action; see docs/audit-events.md."]}),
])
def test_bad_filters_are_refused_naming_the_field(path, params, fields, history,
                                                   researcher_client):
    # when
    dataset, _, format = path.partition(".")
    response = researcher_client.get(export_url(dataset, format), params)

    # then
    assert response.status_code == 400
    assert response.json() == {**INVALID, "fields": fields}


def test_the_events_api_refuses_bad_filters_too(history, researcher_client):
    # when
    response = researcher_client.get("/api/v1/research/events/",
                                     {"since": "2025-13-01", "subject_id": "y" * 70})

    # then
    assert response.status_code == 400
    assert response.json() == {**INVALID, "fields": {
        "since": ["Give an ISO 8601 date-time or date, such as 2025-03-04T05:06:07Z or "
                  "2025-03-04."],
        "subject_id": ["At most 64 characters."]}}


def test_empty_filter_values_are_ignored(history, researcher_client):
    # when
    rows = fetch(researcher_client, "submissions", "csv", since="", cohort="").rows

    # then
    assert len(rows) == 3
