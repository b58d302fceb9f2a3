from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PropertycoConfig(AppConfig):
    name = "linli.propertyco"
    label = "propertyco"
    verbose_name = _("物业红黑榜")

    def ready(self) -> None:
        from linli.accounts.models import Role
        from linli.accounts.scope import scope_of
        from linli.core.nav import NavItem, register
        from linli.propertyco import permissions, states  # noqa: F401  (registers perms)
        from linli.propertyco.permissions import (
            community_staff_ids,
            company_ids,
            inspector_community_ids,
        )

        def staff(u: object) -> bool:
            # From the request's scope only (no statement of its own on every page).
            scope = scope_of(u)
            return (
                scope.is_platform_admin
                or scope.has_role(Role.STREET_OFFICER)
                or bool(inspector_community_ids(u))
                or bool(community_staff_ids(u))
            )

        # Residents: the public board (no login needed), under 更多.
        register(
            NavItem(
                "propertyco_public",
                _("物业红黑榜"),
                "propertyco:board",
                "resident",
                70,
                "🏆",
                visible=lambda u: scope_of(u).resident_id is not None,
                placement="more",
            )
        )
        register(
            NavItem(
                "propertyco_staff",
                _("物业考评"),
                "propertyco:staff",
                "staff",
                55,
                "🏆",
                visible=staff,
            )
        )
        register(
            NavItem(
                "propertyco_company",
                _("本公司考评"),
                "propertyco:company",
                "staff",
                56,
                "🏆",
                visible=lambda u: bool(company_ids(u)),
            )
        )
