from django.urls import path

from linli.surveys import views

app_name = "surveys"
urlpatterns = [
    path("", views.survey_list, name="list"),
    path("new/", views.survey_new, name="new"),
    path("<int:pk>/", views.survey_detail, name="detail"),
    path("<int:pk>/edit/", views.survey_edit, name="edit"),
    path("<int:pk>/fill/", views.survey_fill, name="fill"),
    path("<int:pk>/proxy/", views.proxy_pick, name="proxy"),
    path("<int:pk>/status/", views.survey_status, name="status"),
    path("<int:pk>/remind/", views.survey_remind, name="remind"),
    path("<int:pk>/results/", views.survey_results, name="results"),
    path("<int:pk>/export.<str:fmt>", views.survey_export, name="export"),
    path("<int:pk>/exports/", views.survey_exports, name="exports"),
    path("<int:pk>/exports/<int:export_id>/", views.survey_export_file, name="export_file"),
    path("<int:pk>/xlsform.xlsx", views.survey_xlsform, name="xlsform"),
    path("p/<str:token>/", views.public_fill, name="public"),
    path("wishes/", views.wish_wall, name="wishes"),
    path("wishes/new/", views.wish_new, name="wish_new"),
    path("wishes/staff/", views.wish_queue, name="wish_queue"),
    path("wishes/<int:pk>/", views.wish_detail, name="wish_detail"),
    path("wishes/<int:pk>/act/", views.wish_act, name="wish_act"),
    path("wishes/<int:pk>/photo/", views.wish_photo, name="wish_photo"),
]
