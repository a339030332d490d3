"""Factories for the given-state of tests. They write rows directly (no audit events), so a
test's audit assertions see only the events its own "when" step produced."""

from datetime import timedelta

import factory
from django.contrib.auth.models import Group

from accounts.models import Cohort, Invitation, Role, User
from accounts.services.invitations import invitation_code_hash
from core import clock

PASSWORD = "correct horse battery staple"


class CohortFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cohort
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"cohort-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").title())
    created_at = factory.LazyFunction(clock.now)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    password = factory.django.Password(PASSWORD)
    cohort = factory.SubFactory(CohortFactory, slug="creative-partners")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for role in extracted if extracted is not None else [Role.TESTER]:
            self.groups.add(Group.objects.get_or_create(name=role)[0])


class InvitationFactory(factory.django.DjangoModelFactory):
    """Pass ``code=...`` to choose the code; it is stored only as its hash."""

    class Meta:
        model = Invitation
        exclude = ("code",)

    code = factory.Sequence(lambda n: f"test-invitation-code-{n:06d}")
    code_hash = factory.LazyAttribute(lambda o: invitation_code_hash(o.code))
    cohort = factory.SubFactory(CohortFactory, slug="creative-partners")
    role = Role.TESTER
    expires_at = factory.LazyFunction(lambda: clock.now() + timedelta(days=14))
    max_uses = 1
    created_at = factory.LazyFunction(clock.now)
