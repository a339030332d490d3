"""Studies are managed in the Django admin; every save is recorded, and studies are never
deleted (their id keys the pseudonyms their researchers know)."""

from accounts.models import Role
from audit.models import Event, Study
from tests.factories import UserFactory


def _study_form(**overrides) -> dict:
    return {"slug": "gate-waits", "name": "Gate waits", "description": "", "researchers": [],
            **overrides}


def test_creating_a_study_records_its_researchers_and_grants(db, client):
    # given a superuser and two researchers
    staff = UserFactory(username="root", roles=[], is_staff=True, is_superuser=True)
    rita = UserFactory(username="rita", roles=[Role.RESEARCHER])
    remy = UserFactory(username="remy", roles=[Role.RESEARCHER])
    client.force_login(staff)

    # when the superuser creates a study with both, granted free text only
    response = client.post("/admin/audit/study/add/", _study_form(
        researchers=[rita.pk, remy.pk], grant_free_text="on"))

    # then the study exists and one event records exactly what it is
    assert response.status_code == 302, response.context["adminform"].form.errors
    study = Study.objects.get(slug="gate-waits")
    assert set(study.researchers.all()) == {rita, remy}
    events = list(Event.objects.filter(action="research.study_saved").values_list(
        "actor_id", "subject_type", "subject_id", "data"))
    assert events == [(staff.pk, "audit.study", str(study.pk), {
        "created": True, "researchers": sorted([rita.pk, remy.pk]),
        "grants": {"identities": False, "free_text": True, "client_context": False}})]


def test_only_researchers_can_be_added_to_a_study(db, client):
    # given a superuser and a tester
    staff = UserFactory(username="root", roles=[], is_staff=True, is_superuser=True)
    tester = UserFactory(username="tess", roles=[Role.TESTER])
    client.force_login(staff)

    # when the superuser tries to add the tester
    response = client.post("/admin/audit/study/add/", _study_form(researchers=[tester.pk]))

    # then the form refuses and nothing is saved or recorded
    assert response.status_code == 200
    assert "researchers" in response.context["adminform"].form.errors
    assert not Study.objects.exists()
    assert not Event.objects.filter(action="research.study_saved").exists()


def test_a_study_cannot_be_deleted_in_the_admin(db, client):
    # given a study
    staff = UserFactory(username="root", roles=[], is_staff=True, is_superuser=True)
    study = Study.objects.create(slug="gate-waits", name="Gate waits")
    client.force_login(staff)

    # when the superuser asks to delete it
    response = client.post(f"/admin/audit/study/{study.pk}/delete/", {"post": "yes"})

    # then it is refused and the study is still there
    assert response.status_code == 403
    assert Study.objects.filter(pk=study.pk).exists()
