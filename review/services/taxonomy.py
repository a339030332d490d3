"""The reason taxonomy: every change publishes a new version; decisions record theirs."""

from __future__ import annotations

from django.db import transaction

import audit
from accounts.models import User
from core import clock
from core.errors import InvalidInput
from review.models import ReasonCode, TaxonomyVersion
from review.taxonomy_defaults import REASONS


def _publish(actor) -> TaxonomyVersion:
    latest = TaxonomyVersion.objects.select_for_update().order_by("-number").first()
    codes = [{"code": reason.code, "label": reason.label}
             for reason in ReasonCode.objects.filter(is_active=True)]
    version = TaxonomyVersion.objects.create(
        number=(latest.number + 1) if latest else 1, published_at=clock.now(),
        published_by=actor if isinstance(actor, User) else None, codes=codes)
    audit.record("taxonomy.published", actor=actor, subject=version,
                 data={"version": version.number, "codes": [c["code"] for c in codes]})
    return version


def taxonomy_install_defaults(*, actor) -> TaxonomyVersion:
    """The current version, publishing the default reasons first if there are none (a
    database whose data migration was emptied, as between browser tests)."""
    with transaction.atomic():
        current = TaxonomyVersion.objects.order_by("-number").first()
        if current is not None:
            return current
        for order, (code, label, description, canned) in enumerate(REASONS):
            ReasonCode.objects.get_or_create(code=code, defaults={
                "label": label, "description": description, "canned_response": canned,
                "sort_order": order})
        return _publish(actor)


def reason_save(*, actor: User, code: str, label: str, description: str,
                canned_response: str, is_active: bool = True) -> TaxonomyVersion:
    """Create or change one reason code and publish the taxonomy's next version."""
    errors: dict[str, list[str]] = {}
    if not label.strip():
        errors["label"] = ["A label is required."]
    if not canned_response.strip():
        errors["canned_response"] = ["Testers see this note: write one."]
    if errors:
        raise InvalidInput(fields=errors)
    with transaction.atomic():
        ReasonCode.objects.update_or_create(code=code, defaults={
            "label": label.strip(), "description": description.strip(),
            "canned_response": canned_response.strip(), "is_active": is_active})
        return _publish(actor)
