from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest

from linli.requests.models import Category, Open311Client, RequestEvent, ServiceRequest
from linli.requests.services import open311_client_issue


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin[Category]):
    list_display = [
        "name",
        "code",
        "parent",
        "responsible_kind",
        "department_specialty",
        "response_hours",
        "plan_working_days",
        "feedback_working_days",
        "is_active",
    ]
    list_filter = ["responsible_kind", "is_active", "parent"]
    search_fields = ["name", "code", "keywords"]
    list_editable = ["is_active"]


class EventInline(admin.TabularInline[RequestEvent, ServiceRequest]):
    model = RequestEvent
    extra = 0
    can_delete = False
    readonly_fields = ["at", "actor", "kind", "from_status", "to_status", "note", "public"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ServiceRequest)
class ServiceRequestAdmin(admin.ModelAdmin[ServiceRequest]):
    """Read-only: every change goes through the services (audit trail)."""

    list_display = ["id", "community", "category", "status", "due_state", "channel", "created_at"]
    list_filter = ["status", "due_state", "channel", "community"]
    search_fields = ["description"]
    inlines = [EventInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in ServiceRequest._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Open311Client)
class Open311ClientAdmin(admin.ModelAdmin[Open311Client]):
    list_display = ["name", "community", "prefix", "is_active", "last_used_at", "created_at"]
    list_filter = ["is_active"]
    fields = ["name", "community", "contact", "is_active", "prefix", "last_used_at"]
    readonly_fields = ["prefix", "last_used_at"]

    def save_model(self, request: HttpRequest, obj: Open311Client, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        client, key = open311_client_issue(
            actor=request.user, name=obj.name, community=obj.community, contact=obj.contact
        )
        obj.pk = client.pk
        obj.key_hash, obj.prefix = client.key_hash, client.prefix
        messages.warning(request, f"api_key（只显示这一次，请妥善保存）：{key}")
