from django.urls import path

from linli.notices import views

app_name = "notices"
urlpatterns = [
    path("", views.notice_list, name="list"),
    path("manage/", views.notice_manage, name="manage"),
    path("new/", views.notice_new, name="new"),
    path("<int:pk>/", views.notice_detail, name="detail"),
    path("<int:pk>/poster/", views.notice_poster, name="poster"),
    path("<int:pk>/publish/", views.notice_publish_view, name="publish"),
    path("<int:pk>/withdraw/", views.notice_withdraw_view, name="withdraw"),
]
