from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommunitiesConfig(AppConfig):
    name = "linli.communities"
    label = "communities"
    verbose_name = _("社区与居民")

    def ready(self) -> None:
        from linli.accounts.models import Role
        from linli.accounts.scope import scope_of
        from linli.communities.permissions import ROSTER_EDIT_ROLES, ROSTER_VIEW_ROLES
        from linli.core import ratelimit
        from linli.core.nav import NavItem, register

        # Staff correcting units' owners: the cap only stops a runaway script (an
        # import writes through one call per file, not per unit).
        ratelimit.LIMITS.setdefault(
            "communities.ownership", {"user": ratelimit.Limit(per_minute=60, per_day=2_000)}
        )

        register(
            NavItem(
                "roster",
                _("居民名册"),
                "communities:resident_list",
                "staff",
                10,
                "📇",
                visible=lambda u: scope_of(u).has_role(*ROSTER_VIEW_ROLES, Role.BUILDING_LIAISON),
            )
        )
        register(
            NavItem(
                "roster_import",
                _("名册导入"),
                "communities:roster_import",
                "staff",
                11,
                "📥",
                visible=lambda u: scope_of(u).has_role(*ROSTER_EDIT_ROLES),
            )
        )
        register(
            NavItem(
                "grants",
                _("敏感数据授权"),
                "communities:grant_list",
                "staff",
                90,
                "🔐",
                visible=lambda u: scope_of(u).has_role(Role.SECRETARY, Role.STREET_OFFICER),
            )
        )
