from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CareConfig(AppConfig):
    name = "linli.care"
    label = "care"
    verbose_name = _("关爱与智能安防")

    def ready(self) -> None:
        from django.db.models import Q
        from django.urls import reverse
        from django.utils import timezone

        from linli.accounts.scope import scope_of
        from linli.care import permissions, schedule, states  # noqa: F401  (registers rules perms)
        from linli.care.models import CareSubject
        from linli.care.permissions import VIEW_ROLES, community_ids
        from linli.core.nav import NavItem, Strip, counted_cells, register, register_strip

        def care_staff(u: object) -> bool:
            return bool(community_ids(u, VIEW_ROLES))

        def cared_household(u: object) -> bool:
            hid = scope_of(u).household_id
            return (
                hid is not None
                and CareSubject.objects.filter(household_id=hid, is_active=True).exists()
            )

        def open_alerts(u: object) -> int:
            from linli.care.selectors import alerts_for

            return alerts_for(u, states=("open",)).filter(maintenance=False).count()  # type: ignore[arg-type]

        register(
            NavItem(
                "care_away",
                _("外出报备"),
                "care:home",
                "resident",
                60,
                "🏠",
                visible=cared_household,
                placement="more",
            )
        )
        register(
            NavItem(
                "care_tasks",
                _("关爱走访与报警"),
                "care:home",
                "staff",
                25,
                "🧓",
                visible=care_staff,
                badge=open_alerts,
                badge_text=_("{n} 条报警待响应"),
            )
        )

        def urgency(u: object) -> Strip | None:
            if not care_staff(u):
                return None
            from linli.care.selectors import alerts_for, subjects_for

            now = timezone.now()
            home = reverse("care:home")
            alerts = counted_cells(
                alerts_for(u, states=("open",)).filter(maintenance=False),  # type: ignore[arg-type]
                [(_("报警待响应"), ~Q(pk=None), home, "bad")],
            )
            visits = counted_cells(
                subjects_for(u),  # type: ignore[arg-type]
                [
                    (
                        _("走访超期"),
                        schedule.overdue_q(now),
                        reverse("care:roster") + "?due=overdue",
                        "bad",
                    ),
                    (
                        _("走访即将到期"),
                        schedule.soon_q(now),
                        reverse("care:roster") + "?due=soon",
                        "warn",
                    ),
                ],
            )
            return Strip("care", _("关爱"), alerts + visits)

        register_strip("care", urgency, order=20)
