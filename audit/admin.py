"""The audit log in the Django admin: readable by staff, never editable."""

from django.contrib import admin

from audit.models import Event


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("id", "occurred_at", "action", "actor_type", "actor_id", "actor_name",
                    "subject_type", "subject_id")
    list_filter = ("action", "actor_type", "subject_type")
    search_fields = ("action", "subject_id")
    date_hierarchy = "occurred_at"
    readonly_fields = [field.name for field in Event._meta.fields]
    actions = None

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
