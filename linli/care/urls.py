from django.urls import path

from linli.care import views

app_name = "care"
urlpatterns = [
    path("", views.home, name="home"),
    path("roster/", views.roster, name="roster"),
    path("roster/enrol/", views.enrol, name="enrol"),
    path("s/<int:pk>/", views.subject, name="subject"),
    path("s/<int:pk>/edit/", views.subject_edit, name="subject_edit"),
    path("s/<int:pk>/away/", views.away, name="away"),
    path("s/<int:pk>/contacts/", views.contact_add, name="contact_add"),
    path("contacts/<int:pk>/remove/", views.contact_remove, name="contact_remove"),
    path("s/<int:pk>/visit/", views.visit_new, name="visit_new"),
    path("v/<int:pk>/", views.visit, name="visit"),
    path("v/<int:pk>/handover/", views.visit_handover, name="visit_handover"),
    path("alerts/", views.alerts, name="alerts"),
    path("alerts/<int:pk>/", views.alert, name="alert"),
    path("alerts/<int:pk>/act/", views.alert_act, name="alert_act"),
    path("devices/", views.devices, name="devices"),
    path("events/", views.events, name="events"),
    path("settings/", views.settings_page, name="settings"),
]
