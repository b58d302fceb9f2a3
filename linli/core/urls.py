from django.urls import path

from linli.core import views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("me/", views.resident_home, name="resident_home"),
    path("workbench/", views.workbench, name="workbench"),
    path("prefs/elderly/", views.toggle_elderly, name="toggle_elderly"),
    path("prefs/language/", views.set_language, name="set_language"),
    path("audit/", views.audit_checkpoints, name="audit_checkpoints"),
    path(
        "audit/checkpoints.jsonl",
        views.audit_checkpoints_download,
        name="audit_checkpoints_download",
    ),
    path("healthz", views.healthz, name="healthz"),
]
