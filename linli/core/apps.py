from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "linli.core"
    label = "core"
    verbose_name = "核心"

    def ready(self) -> None:
        from linli.core.nav import NavItem, register

        register(
            NavItem(
                "profile",
                _("我的资料与隐私"),
                "accounts:profile",
                "resident",
                90,
                "🔒",
                placement="more",
            )
        )
