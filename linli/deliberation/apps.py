from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeliberationConfig(AppConfig):
    name = "linli.deliberation"
    label = "deliberation"
    verbose_name = _("议事厅")

    def ready(self) -> None:
        from linli.accounts.scope import scope_of
        from linli.core.nav import NavItem, register
        from linli.deliberation import permissions  # noqa: F401  (registers the rules)
        from linli.deliberation.permissions import MANAGE_ROLES, VIEW_ROLES

        def resident(u: object) -> bool:
            return scope_of(u).resident_id is not None

        register(
            NavItem("hall", _("议事厅"), "deliberation:hall", "resident", 20, "🗣️", visible=resident)
        )
        register(
            NavItem(
                "actions_public",
                _("决议落实进度"),
                "deliberation:actions",
                "resident",
                22,
                "✅",
                visible=resident,
                placement="more",
            )
        )

        def staff(u: object) -> bool:
            return scope_of(u).has_role(*VIEW_ROLES)

        def manager(u: object) -> bool:
            return scope_of(u).has_role(*MANAGE_ROLES)

        register(
            NavItem("hall_staff", _("议事厅"), "deliberation:hall", "staff", 30, "🗣️", visible=staff)
        )
        register(
            NavItem(
                "meetings", _("议事会议"), "deliberation:meetings", "staff", 31, "📅", visible=staff
            )
        )
        register(
            NavItem(
                "council", _("议事会成员"), "deliberation:council", "staff", 32, "👥", visible=staff
            )
        )
        register(
            NavItem(
                "deliberators",
                _("社区议事员"),
                "deliberation:deliberators",
                "staff",
                33,
                "🎓",
                visible=manager,
            )
        )
        register(
            NavItem(
                "insights",
                _("高频诉求"),
                "deliberation:insights",
                "staff",
                35,
                "📈",
                visible=manager,
            )
        )
        register(
            NavItem(
                "actions", _("决议落实"), "deliberation:actions", "staff", 34, "✅", visible=staff
            )
        )
