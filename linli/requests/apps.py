from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RequestsConfig(AppConfig):
    name = "linli.requests"
    label = "requests"
    verbose_name = _("诉求")

    def ready(self) -> None:
        from linli.accounts.scope import scope_of
        from linli.core.nav import NavItem, register

        def _resident(u: object) -> bool:
            return scope_of(u).resident_id is not None

        register(
            NavItem(
                "requests_new", _("随手拍"), "requests:new", "resident", 10, "📷", visible=_resident
            )
        )
        register(NavItem("requests_mine", _("我的诉求"), "requests:mine", "resident", 11, "📋"))
        register(NavItem("requests_queue", _("诉求工单"), "requests:queue", "staff", 20, "🗂"))
        register(NavItem("requests_record", _("代办登记"), "requests:record", "staff", 21, "☎"))
        register(NavItem("requests_metrics", _("诉求指标"), "requests:metrics", "staff", 22, "📈"))
