from django.contrib.auth import views as auth_views
from django.urls import path

from linli.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("profile/", views.profile, name="profile"),
    path("profile/my-data.json", views.my_data_download, name="my_data"),
    path("mfa/enrol/", views.mfa_enrol, name="mfa_enrol"),
    path("mfa/verify/", views.mfa_verify, name="mfa_verify"),
    path("password/change/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password/reset/", views.password_reset, name="password_reset"),
    path(
        "password/reset/confirm/",
        views.password_reset_confirm_view,
        name="password_reset_confirm",
    ),
    path("login/code/", views.code_login_request_view, name="code_login"),
    path("login/code/confirm/", views.code_login_confirm_view, name="code_login_confirm"),
    path("activate/", views.activate, name="activate"),
    path(
        "activation/issue/<int:resident_id>/",
        views.activation_issue_view,
        name="activation_issue",
    ),
    path("tokens/", views.api_tokens, name="api_tokens"),
    path("tokens/<int:token_id>/revoke/", views.api_token_revoke_view, name="api_token_revoke"),
]
