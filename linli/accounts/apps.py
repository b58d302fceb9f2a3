from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "linli.accounts"
    label = "accounts"
    verbose_name = "账户与角色"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_login_failed

        from linli.accounts.lockout import on_login_failed
        from linli.accounts.middleware import on_login

        # Every failed login counts towards the client address's cap (across accounts).
        user_login_failed.connect(on_login_failed, dispatch_uid="linli-login-ip-cap")
        # Staff status and TOTP enrolment are noted in the session at login.
        user_logged_in.connect(on_login, dispatch_uid="linli-staff-session")
