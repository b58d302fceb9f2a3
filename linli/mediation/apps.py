from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MediationConfig(AppConfig):
    name = "linli.mediation"
    label = "mediation"
    verbose_name = _("人民调解")

    def ready(self) -> None:
        from linli.accounts.scope import scope_of
        from linli.core.nav import NavItem, Strip, counted_cells, register, register_strip
        from linli.mediation import permissions  # noqa: F401  (registers rules perms)
        from linli.mediation.permissions import manager_community_ids, opener_community_ids

        def party(u: object) -> bool:
            # Residents see the tile only once they are a party to some case.
            from linli.mediation.models import Party

            scope = scope_of(u)
            if scope.resident_id is None:
                return False
            return Party.objects.filter(
                community_id=scope.community_id or 0, resident_id=scope.resident_id
            ).exists()

        register(
            NavItem(
                "mediation_mine",
                _("我的调解"),
                "mediation:case_list",
                "resident",
                60,
                "⚖️",
                visible=party,
                placement="more",
            )
        )
        register(
            NavItem(
                "mediation_cases",
                _("人民调解"),
                "mediation:case_list",
                "staff",
                50,
                "⚖️",
                visible=lambda u: bool(opener_community_ids(u)),
            )
        )
        register(
            NavItem(
                "mediation_stats",
                _("调解统计"),
                "mediation:stats",
                "staff",
                51,
                "📊",
                visible=lambda u: bool(manager_community_ids(u)),
            )
        )

        def strip(u: object) -> Strip | None:
            """调解 on the staff workbench: active cases and follow-ups due, one query
            over the cases the viewer may see."""
            from django.db.models import Q
            from django.urls import reverse
            from django.utils import timezone

            from linli.mediation.selectors import cases_for

            if not opener_community_ids(u):
                return None
            url = reverse("mediation:case_list")
            cells = counted_cells(
                cases_for(viewer=u),
                [
                    (
                        _("回访到期"),
                        Q(status="closed", followup_due__lte=timezone.localdate()),
                        f"{url}?due=1",
                        "warn",
                    ),
                    (_("调解中"), Q(status__in=["open", "mediating"]), f"{url}?status=active", ""),
                ],
            )
            return Strip("mediation", _("人民调解"), cells)

        register_strip("mediation", strip, order=60)
