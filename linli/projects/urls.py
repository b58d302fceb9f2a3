from django.urls import path

from linli.projects import views

app_name = "projects"
urlpatterns = [
    path("", views.micro_list, name="micro_list"),
    path("new/", views.micro_new, name="micro_new"),
    path("<int:pk>/", views.micro_detail, name="micro_detail"),
    path("<int:pk>/cosign/", views.micro_cosign, name="micro_cosign"),
    path("<int:pk>/act/", views.micro_act, name="micro_act"),
    path("workbench/", views.workbench, name="workbench"),
    path("public/", views.public_list, name="public_list"),
]
