from __future__ import annotations

from django.contrib import admin

from linli.communities.models import Building, Household, Organisation, OrgUnit, Resident


@admin.register(OrgUnit)
class OrgUnitAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "code", "parent", "path"]
    list_filter = ["kind"]
    search_fields = ["name", "code"]
    readonly_fields = ["path"]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "specialty", "scope"]
    list_filter = ["kind"]
    search_fields = ["name"]
    filter_horizontal = ["communities"]


@admin.register(Building)
class BuildingAdmin(admin.ModelAdmin):
    list_display = ["name", "community", "grid", "property_company"]
    search_fields = ["name", "community__name"]
    list_select_related = ["community", "grid", "property_company"]


@admin.register(Household)
class HouseholdAdmin(admin.ModelAdmin):
    list_display = ["__str__", "community", "area_m2", "tenure"]
    list_filter = ["tenure"]
    search_fields = ["building__name", "room"]
    list_select_related = ["building", "community"]
    raw_id_fields = ["building"]


@admin.register(Resident)
class ResidentAdmin(admin.ModelAdmin):
    """Names and addresses only; sensitive fields are read on the roster page under a
    grant, where each read is logged."""

    list_display = ["name", "community", "grid", "birth_year", "tier", "is_active"]
    list_filter = ["tier", "is_active"]
    search_fields = ["name"]
    exclude = ["phone", "id_number"]
    raw_id_fields = ["household", "user"]
    list_select_related = ["community", "grid"]
