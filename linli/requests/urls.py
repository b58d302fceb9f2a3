from django.urls import path, re_path

from linli.requests import open311, views

app_name = "requests"
urlpatterns = [
    path("new/", views.report, name="new"),
    path("mine/", views.mine, name="mine"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/photo/<int:photo_id>/", views.photo, name="photo"),
    path("<int:pk>/<slug:action>/", views.resident_action, name="resident_action"),
    path("desk/", views.queue, name="queue"),
    path("desk/bulk/", views.bulk_assign, name="bulk_assign"),
    path("desk/record/", views.record, name="record"),
    path("desk/metrics/", views.metrics, name="metrics"),
    path("desk/<int:pk>/", views.staff_detail, name="staff_detail"),
    path("desk/<int:pk>/merge/confirm/", views.merge_confirm, name="merge_confirm"),
    path("desk/<int:pk>/<slug:action>/", views.staff_action, name="staff_action"),
]

# Open311 GeoReport v2: paths fixed by the public spec, mounted at the site root.
root_urlpatterns = [
    re_path(r"^open311/discovery\.(?P<fmt>json|xml)$", open311.discovery, name="open311_discovery"),
    re_path(r"^open311/v2/services\.(?P<fmt>\w+)$", open311.services, name="open311_services"),
    re_path(
        r"^open311/v2/services/(?P<code>[\w-]+)\.(?P<fmt>\w+)$",
        open311.service_definition,
        name="open311_service",
    ),
    re_path(
        r"^open311/v2/requests\.(?P<fmt>\w+)$", open311.requests_collection, name="open311_requests"
    ),
    re_path(
        r"^open311/v2/requests/(?P<pk>[^/.]+)\.(?P<fmt>\w+)$",
        open311.request_detail,
        name="open311_request",
    ),
    re_path(
        r"^open311/v2/tokens/(?P<token>[^/.]+)\.(?P<fmt>\w+)$",
        open311.token_detail,
        name="open311_token",
    ),
]
