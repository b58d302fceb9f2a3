from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "linli.ledger"
    label = "ledger"
    verbose_name = _("积分与时间银行")

    def ready(self) -> None:
        from linli.accounts.scope import scope_of
        from linli.core.nav import NavItem, register
        from linli.ledger import permissions  # noqa: F401  (registers rules perms)
        from linli.ledger.permissions import MANAGER_ROLES, OVERSIGHT_ROLES, STAFF_ROLES

        def is_resident(u: object) -> bool:
            return scope_of(u).resident_id is not None

        def manager(u: object) -> bool:
            return bool(scope_of(u).community_ids_for(*MANAGER_ROLES))

        def staff(u: object) -> bool:
            return bool(scope_of(u).community_ids_for(*STAFF_ROLES))

        def overseer(u: object) -> bool:
            return bool(scope_of(u).community_ids_for(*MANAGER_ROLES, *OVERSIGHT_ROLES))

        register(
            NavItem(
                "ledger_me", _("我的积分"), "ledger:me", "resident", 30, "🪙", visible=is_resident
            )
        )
        register(
            NavItem(
                "ledger_timebank",
                _("时间银行"),
                "ledger:timebank",
                "resident",
                31,
                "⏳",
                visible=is_resident,
                placement="more",
            )
        )
        register(
            NavItem(
                "ledger_catalogue",
                _("积分兑换"),
                "ledger:catalogue",
                "resident",
                32,
                "🎁",
                visible=is_resident,
                placement="more",
            )
        )
        register(
            NavItem(
                "ledger_fame",
                _("社区名人堂"),
                "ledger:hall_of_fame",
                "resident",
                60,
                "🏅",
                placement="more",
            )
        )
        register(
            NavItem(
                "ledger_claims", _("积分审核"), "ledger:claims", "staff", 40, "✅", visible=staff
            )
        )
        register(
            NavItem(
                "ledger_rules", _("积分规则"), "ledger:rules", "staff", 41, "📐", visible=manager
            )
        )
        register(
            NavItem(
                "ledger_catalogue_manage",
                _("兑换商品"),
                "ledger:catalogue_manage",
                "staff",
                42,
                "🎁",
                visible=manager,
            )
        )
        register(
            NavItem(
                "ledger_trial",
                _("积分总账"),
                "ledger:trial_balance",
                "staff",
                43,
                "📒",
                visible=overseer,
            )
        )
        register(
            NavItem(
                "ledger_honours",
                _("荣誉评选"),
                "ledger:honours",
                "staff",
                44,
                "🏅",
                visible=manager,
            )
        )
