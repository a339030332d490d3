"""The first reason taxonomy (version 1); program admins edit it afterwards."""

from django.db import migrations
from django.utils import timezone

from review.taxonomy_defaults import REASONS


def forward(apps, schema_editor):
    ReasonCode = apps.get_model("review", "ReasonCode")
    TaxonomyVersion = apps.get_model("review", "TaxonomyVersion")
    for order, (code, label, description, canned) in enumerate(REASONS):
        ReasonCode.objects.get_or_create(code=code, defaults={
            "label": label, "description": description, "canned_response": canned,
            "sort_order": order})
    TaxonomyVersion.objects.get_or_create(number=1, defaults={
        "published_at": timezone.now(),
        "codes": [{"code": code, "label": label} for code, label, _d, _c in REASONS]})


class Migration(migrations.Migration):
    dependencies = [("review", "0001_initial")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
