"""The audit log in the Django admin: events, seals and checkpoints are readable by staff and
never editable; studies are managed here by program admins, and every change is logged."""

from django.contrib import admin
from django.db import transaction

from audit.models import Checkpoint, Event, Seal, Study
from audit.services import record


class ReadOnlyAdmin(admin.ModelAdmin):
    actions = None

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("id", "occurred_at", "action", "actor_type", "actor_id", "actor_name",
                    "subject_type", "subject_id")
    list_filter = ("action", "actor_type", "subject_type")
    search_fields = ("action", "subject_id")
    date_hierarchy = "occurred_at"


@admin.register(Seal)
class SealAdmin(ReadOnlyAdmin):
    list_display = ("seq", "event_id", "hash")


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    list_display = ("seq", "created_at", "head_hash", "key_id")


@admin.register(Study)
class StudyAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "grant_identities", "grant_free_text",
                    "grant_client_context", "created_at")
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ("researchers",)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "researchers":
            kwargs["queryset"] = db_field.remote_field.model.objects.filter(
                groups__name="researcher").order_by("username")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def has_delete_permission(self, request, obj=None):
        # Pseudonyms are keyed by the study's id: a deleted and recreated study would
        # silently give its researchers a second, unlinkable set.
        return False

    @transaction.atomic
    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        study = form.instance
        record("research.study_saved", actor=request.user, subject=study, data={
            "created": not change,
            "researchers": sorted(study.researchers.values_list("pk", flat=True)),
            "grants": {name: getattr(study, f"grant_{name}")
                       for name in ("identities", "free_text", "client_context")},
        })
