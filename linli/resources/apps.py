from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ResourcesConfig(AppConfig):
    name = "linli.resources"
    label = "resources"
    verbose_name = _("资源池与预约")

    def ready(self) -> None:
        from linli.accounts.scope import scope_of
        from linli.core import ratelimit
        from linli.core.nav import NavItem, register
        from linli.resources import permissions  # noqa: F401  (registers rules perms)
        from linli.resources.states import BOOKING, DEPOSIT, RESOURCE

        RESOURCE.add_perms(self.label)
        BOOKING.add_perms(self.label)
        DEPOSIT.add_perms(self.label)
        # Booking (single or a series) and listing a resource are creates: rate-limited
        # per user. A desk recording bookings for callers (代办) needs more room than a
        # resident, so the per-day cap is set for the desk.
        ratelimit.LIMITS.setdefault(
            "resources.book", {"user": ratelimit.Limit(per_minute=10, per_day=200)}
        )
        ratelimit.LIMITS.setdefault(
            "resources.create", {"user": ratelimit.Limit(per_minute=5, per_day=50)}
        )

        def resident(u: object) -> bool:
            return scope_of(u).resident_id is not None

        def staff(u: object) -> bool:
            return bool(permissions.community_ids(u, permissions.VIEW_ROLES))

        register(
            NavItem(
                "resources_pool",
                _("借用与场地预约"),
                "resources:list",
                "resident",
                35,
                "🪜",
                visible=resident,
            )
        )
        register(
            NavItem(
                "resources_mine",
                _("我的预约"),
                "resources:my_bookings",
                "resident",
                36,
                "📅",
                visible=resident,
                placement="more",
            )
        )
        register(
            NavItem(
                "resources_manage",
                _("资源池与预约"),
                "resources:manage",
                "staff",
                47,
                "🏠",
                visible=staff,
            )
        )
        self._register_matching_provider()

    def _register_matching_provider(self) -> None:
        """Offer resources to the mutual-aid matching board when that app publishes
        its provider hook (``linli.mutualaid.providers``); absent hook, nothing to do."""
        try:
            from linli.mutualaid import providers as hook
        except ImportError:
            return
        from linli.resources.matching import register_with

        register_with(hook)
