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

        def _community_staff(u: object) -> bool:
            # The record/metrics pages serve the communities a user manages or
            # supervises; other staff (departments, property) would only meet a 404.
            from linli.requests.selectors import staff_communities

            return staff_communities(viewer=u).exists()

        register(
            NavItem(
                "requests_record",
                _("代办登记"),
                "requests:record",
                "staff",
                21,
                "☎",
                visible=_community_staff,
            )
        )

        def _metrics_reader(u: object) -> bool:
            from linli.requests.selectors import metrics_communities

            return bool(metrics_communities(viewer=u))

        register(
            NavItem(
                "requests_metrics",
                _("诉求指标"),
                "requests:metrics",
                "staff",
                22,
                "📈",
                visible=_metrics_reader,
            )
        )
