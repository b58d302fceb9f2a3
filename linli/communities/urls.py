from django.urls import path

from linli.communities import views, views_grants, views_import, views_ownership

app_name = "communities"
urlpatterns = [
    path("residents/", views.resident_list, name="resident_list"),
    path("residents/<int:pk>/", views.resident_detail, name="resident_detail"),
    path("residents/<int:pk>/reveal/", views.resident_reveal, name="resident_reveal"),
    path(
        "households/<int:pk>/owners/",
        views_ownership.household_owners,
        name="household_owners",
    ),
    path("import/", views_import.roster_import, name="roster_import"),
    path("import/template/", views_import.roster_template, name="roster_template"),
    path("export/", views_import.roster_export, name="roster_export"),
    path("grants/", views_grants.grant_list, name="grant_list"),
    path("grants/<int:pk>/revoke/", views_grants.grant_revoke, name="grant_revoke"),
    path("grants/requests/<int:pk>/approve/", views_grants.grant_approve, name="grant_approve"),
    path("grants/requests/<int:pk>/refuse/", views_grants.grant_refuse, name="grant_refuse"),
]
