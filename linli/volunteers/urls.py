from django.urls import path

from linli.volunteers import views

app_name = "volunteers"
urlpatterns = [
    path("", views.activity_list, name="activity_list"),
    path("new/", views.activity_new, name="activity_new"),
    path("<int:pk>/", views.activity_detail, name="activity_detail"),
    path("<int:pk>/signup/", views.activity_signup, name="activity_signup"),
    path("<int:pk>/finish/", views.activity_finish, name="activity_finish"),
    path("<int:pk>/status/", views.activity_status, name="activity_status"),
    path("signups/<int:pk>/cancel/", views.signup_cancel, name="signup_cancel"),
    path("signups/<int:pk>/check/", views.signup_check, name="signup_check"),
    path("<int:pk>/checkin-qr.svg", views.checkin_qr, name="checkin_qr"),
    path("checkin/<str:token>/", views.checkin_token, name="checkin_token"),
    path("signups/<int:pk>/pass.svg", views.pass_qr, name="pass_qr"),
    path("pass/<str:token>/", views.pass_scan, name="pass_scan"),
    path("me/", views.my_profile, name="my_profile"),
    path("skills/", views.skills_pool, name="skills_pool"),
]
