from django.urls import path, re_path

from linli.assessment import views

app_name = "assessment"

urlpatterns = [
    path("", views.board, name="board"),
    path("u/<int:pk>/", views.unit, name="unit"),
    path("u/<int:pk>/integrity/", views.integrity, name="integrity"),
    path("u/<int:pk>/data/<slug:chart>.csv", views.data, name="data"),
    re_path(r"^u/(?P<pk>\d+)/export\.(?P<fmt>xlsx|pdf)$", views.export, name="export"),
    path("u/<int:pk>/expert/", views.expert, name="expert"),
    path("u/<int:pk>/recompute/", views.recompute, name="recompute"),
    path("b/<int:pk>/", views.building, name="building"),
    path("weights/", views.weights, name="weights"),
    path("definitions/", views.definitions, name="definitions"),
    path("public/", views.public_home, name="public_home"),
    path("public/<int:pk>/", views.public_card, name="public_card"),
]
