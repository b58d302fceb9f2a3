from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MutualaidConfig(AppConfig):
    name = "linli.mutualaid"
    label = "mutualaid"
    verbose_name = _("邻里互助与社区合伙人")

    def ready(self) -> None:
        from linli.accounts.scope import scope_of
        from linli.core.nav import NavItem, register
        from linli.mutualaid import states  # noqa: F401  (registers rules perms)
        from linli.mutualaid.matching import register_builtin
        from linli.mutualaid.permissions import aid_staff_community_ids, partner_staff_community_ids

        register_builtin()

        def is_resident(u: object) -> bool:
            return scope_of(u).resident_id is not None

        def staff(u: object) -> bool:
            return bool(aid_staff_community_ids(u))

        def partner_staff(u: object) -> bool:
            # Whoever the partners page serves: community staff who manage partners.
            # (A grid worker matches needs but does not manage partners: no 404 link.)
            return bool(partner_staff_community_ids(u))

        register(
            NavItem(
                "mutualaid",
                _("邻里互助"),
                "mutualaid:home",
                "resident",
                35,
                "🤝",
                visible=is_resident,
            )
        )
        register(
            NavItem(
                "mutualaid_queue",
                _("互助需求匹配"),
                "mutualaid:queue",
                "staff",
                47,
                "🤝",
                visible=staff,
            )
        )
        register(
            NavItem(
                "mutualaid_partners",
                _("社区合伙人"),
                "mutualaid:partners",
                "staff",
                48,
                "🏢",
                visible=partner_staff,
            )
        )
