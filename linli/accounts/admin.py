from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from linli.accounts.models import ApiToken, Membership, SensitiveAccessGrant, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["unit", "organisation", "building"]
    fk_name = "user"


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "display_name", "phone", "is_active", "is_staff"]
    search_fields = ["username", "display_name", "phone"]
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        ("Linli", {"fields": ("phone", "display_name", "elderly_mode", "language")}),
    )
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "unit", "organisation", "is_active"]
    list_filter = ["role", "is_active"]
    search_fields = ["user__username", "user__display_name", "unit__name"]
    autocomplete_fields = ["user", "unit", "organisation", "building"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Keys are shown once when issued (manage.py issue_api_token); only hashes are kept."""

    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["key_hash", "prefix", "last_used_at"]
    search_fields = ["name", "user__username"]


@admin.register(SensitiveAccessGrant)
class SensitiveAccessGrantAdmin(admin.ModelAdmin):
    list_display = ["grantee", "community", "scope", "expires_at", "revoked_at", "granted_by"]
    list_filter = ["scope"]

    def has_add_permission(self, request: object) -> bool:
        return False  # grants go through the secretary's page, which audits them

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
