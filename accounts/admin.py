"""Staff views of accounts. Program state and invitations change only through their pages,
so every change is audited; account edits made here are audited as ``account.changed``."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import Cohort, Invitation, Program, TermsAcceptance, TokenUsage, User
from accounts.services.users import account_record_admin_change


class ReadOnlyAdmin(admin.ModelAdmin):
    actions = None

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "email", "cohort", "is_active", "is_staff", "date_joined")
    list_filter = ("groups", "cohort", "is_active", "is_staff")
    fieldsets = (*DjangoUserAdmin.fieldsets, ("Program", {"fields": ("cohort",)}))
    actions = None

    def has_delete_permission(self, request, obj=None):
        # Accounts are deactivated, never deleted: the audit log refers to them.
        return False

    def save_related(self, request, form, formsets, change):
        # Recorded once the groups (the roles) are saved too. The admin object is shared by
        # every request, so nothing about this one may be kept on it.
        super().save_related(request, form, formsets, change)
        if change:
            account_record_admin_change(actor=request.user, user=form.instance,
                                        changed=form.changed_data)


@admin.register(Cohort)
class CohortAdmin(ReadOnlyAdmin):
    list_display = ("slug", "name", "created_at")


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    list_display = ("id", "cohort", "role", "email", "uses", "max_uses", "expires_at",
                    "revoked_at", "created_by")
    list_filter = ("role", "cohort")
    exclude = ("code_hash",)


@admin.register(Program)
class ProgramAdmin(ReadOnlyAdmin):
    list_display = ("status", "reason", "changed_at", "terms_version")


@admin.register(TokenUsage)
class TokenUsageAdmin(ReadOnlyAdmin):
    list_display = ("user", "usual_per_hour", "hours_learned", "current_window",
                    "last_anomaly_window")
    list_select_related = ("user",)


@admin.register(TermsAcceptance)
class TermsAcceptanceAdmin(ReadOnlyAdmin):
    list_display = ("user", "version", "accepted_at")
