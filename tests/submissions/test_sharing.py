"""Sharing an approved clip: one revocable public link, a public page that plays only the
watermarked rendition, and revocation by the owner or a program admin."""

import pytest
from django.test import Client

from accounts.models import Role
from audit.models import Event
from submissions import tasks
from submissions.models import ShareLink, SubmissionStatus
from submissions.storage import media_storage
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_dirs")]

S = SubmissionStatus
URL = "/api/v1/submissions/"
NOT_FOUND = {"code": "not_found", "message": "Not found."}


@pytest.fixture
def approved(tester, make_clip, tiny_clip):
    """A tester's clip, processed (so it has a watermarked rendition), then approved."""
    clip = make_clip(tester, S.RECEIVED, original=tiny_clip)
    tasks.submission_process(str(clip.pk))
    clip.refresh_from_db()
    clip.status = S.APPROVED
    clip.save(update_fields=["status"])
    return clip


@pytest.fixture
def shared(approved, tester, client_of):
    """The approved clip with a live link (made through the API); returns (clip, token)."""
    response = client_of(tester).post(f"{URL}{approved.pk}/share/")
    assert response.status_code == 201
    return approved, response.json()["token"]


def _read(name) -> bytes:
    with media_storage().open(name, "rb") as handle:
        return handle.read()


def _event_rows(since: int = 0) -> list[tuple[str, int | None, dict]]:
    return list(Event.objects.filter(id__gt=since).values_list("action", "actor_id", "data"))


def _mark() -> int:
    return Event.objects.order_by("-id").values_list("id", flat=True).first() or 0


@pytest.mark.parametrize("status", [status for status in S if status != S.APPROVED])
def test_only_approved_clips_can_be_shared(tester, client_of, make_clip, submissions_state,
                                           status):
    # given
    clip = make_clip(tester, status)
    before = submissions_state()

    # when
    response = client_of(tester).post(f"{URL}{clip.pk}/share/")

    # then
    assert response.status_code == 409
    assert response.json() == {"code": "submission.not_approved",
                               "message": "Only approved clips can be shared."}
    assert submissions_state() == before


def test_sharing_an_approved_clip_creates_one_public_link(tester, client_of, approved,
                                                          frozen_now):
    # given
    mark = _mark()

    # when
    response = client_of(tester).post(f"{URL}{approved.pk}/share/")

    # then
    assert response.status_code == 201
    link = ShareLink.objects.get()
    assert response.json() == {"url": f"http://testserver/s/{link.token}/", "token": link.token}
    assert len(link.token) >= 32
    assert (link.submission_id, link.created_by, link.created_at, link.revoked_at) == (
        approved.pk, tester, frozen_now, None)
    assert _event_rows(since=mark) == [("submission.shared", tester.pk,
                                        {"share_link_id": link.pk})]


def test_sharing_again_returns_the_same_link_without_a_new_event(tester, client_of, shared):
    # given
    clip, token = shared
    mark = _mark()

    # when
    response = client_of(tester).post(f"{URL}{clip.pk}/share/")

    # then
    assert response.status_code == 201
    assert response.json() == {"url": f"http://testserver/s/{token}/", "token": token}
    assert ShareLink.objects.count() == 1
    assert _event_rows(since=mark) == []


def test_the_public_page_plays_the_watermarked_rendition_without_signing_in(shared):
    # given
    clip, token = shared

    # when
    response = Client().get(f"/s/{token}/")

    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    page = response.content.decode()
    assert f'src="/s/{token}/video/"' in page
    assert 'data-testid="shared-player"' in page
    assert str(clip.pk) not in page  # no link to the permission-checked media endpoints


def test_the_public_video_is_exactly_the_watermarked_rendition(shared):
    # given
    clip, token = shared
    watermarked, original = _read(clip.watermarked), _read(clip.original)

    # when
    response = Client().get(f"/s/{token}/video/")

    # then
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert body == watermarked
    assert body != original
    assert response["Content-Type"] == "video/mp4"
    assert response["Content-Disposition"] == f'inline; filename="{str(clip.pk)[:8]}-clip.mp4"'
    assert response["Cache-Control"] == "public, max-age=300"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_the_public_video_supports_range_requests(shared):
    # given
    clip, token = shared
    watermarked = _read(clip.watermarked)

    # when
    response = Client().get(f"/s/{token}/video/", HTTP_RANGE="bytes=0-99")

    # then
    assert response.status_code == 206
    assert b"".join(response.streaming_content) == watermarked[:100]
    assert response["Content-Range"] == f"bytes 0-99/{len(watermarked)}"
    assert response["Cache-Control"] == "public, max-age=300"


@pytest.mark.parametrize("path", ["/s/{token}/original/", "/s/{token}/video/original/",
                                  "/s/{token}/media/original/"])
def test_the_original_is_never_public(shared, path):
    # given
    _clip, token = shared

    # when
    response = Client().get(path.format(token=token))

    # then
    assert response.status_code == 404


@pytest.mark.parametrize("path", ["/s/not-a-token/", "/s/not-a-token/video/"])
def test_an_unknown_token_is_not_found(db, path):
    assert Client().get(path).status_code == 404


@pytest.mark.parametrize("who", ["owner", "program_admin"])
def test_revoking_the_link_takes_the_page_and_the_video_down(shared, tester, client_of,
                                                             frozen_now, who):
    # given
    clip, token = shared
    actor = tester if who == "owner" else UserFactory(roles=[Role.PROGRAM_ADMIN])
    mark = _mark()

    # when
    response = client_of(actor).delete(f"{URL}{clip.pk}/share/")

    # then
    assert response.status_code == 204
    link = ShareLink.objects.get()
    assert link.revoked_at == frozen_now
    assert _event_rows(since=mark) == [("submission.share_revoked", actor.pk,
                                        {"share_link_id": link.pk})]
    assert Client().get(f"/s/{token}/").status_code == 404
    assert Client().get(f"/s/{token}/video/").status_code == 404


def test_another_tester_cannot_revoke_the_link(shared, client_of, submissions_state):
    # given
    clip, token = shared
    before = submissions_state()

    # when
    response = client_of(UserFactory(roles=[Role.TESTER])).delete(f"{URL}{clip.pk}/share/")

    # then
    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    assert submissions_state() == before
    assert Client().get(f"/s/{token}/video/").status_code == 200


def test_revoking_without_a_live_link_records_nothing(approved, tester, client_of,
                                                      submissions_state):
    # given
    before = submissions_state()

    # when
    response = client_of(tester).delete(f"{URL}{approved.pk}/share/")

    # then
    assert response.status_code == 204
    assert submissions_state() == before


def test_sharing_after_a_revocation_makes_a_new_link(shared, tester, client_of):
    # given
    clip, old_token = shared
    client = client_of(tester)
    client.delete(f"{URL}{clip.pk}/share/")
    mark = _mark()

    # when
    response = client.post(f"{URL}{clip.pk}/share/")

    # then
    assert response.status_code == 201
    new_token = response.json()["token"]
    assert new_token != old_token
    new_link = ShareLink.objects.get(revoked_at=None)
    assert new_link.token == new_token
    assert _event_rows(since=mark) == [("submission.shared", tester.pk,
                                        {"share_link_id": new_link.pk})]
    assert Client().get(f"/s/{old_token}/").status_code == 404
    assert Client().get(f"/s/{new_token}/").status_code == 200
