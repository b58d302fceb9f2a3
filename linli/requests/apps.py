from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RequestsConfig(AppConfig):
    name = "linli.requests"
    label = "requests"
    verbose_name = _("诉求")

    def ready(self) -> None:
        from linli.accounts.scope import scope_of
        from linli.core.nav import NavItem, Strip, counted_cells, register, register_strip

        def _resident(u: object) -> bool:
            return scope_of(u).resident_id is not None

        register(
            NavItem(
                "requests_new",
                _("随手拍"),
                "requests:new",
                "resident",
                10,
                "📷",
                visible=_resident,
                placement="primary",
            )
        )

        def _to_rate(u: object) -> int:
            # Resolved requests of mine that wait for my rating (rating closes them).
            from linli.requests.models import Status
            from linli.requests.selectors import request_list_mine

            return (
                request_list_mine(viewer=u)
                .filter(reporter_id=getattr(u, "pk", None), status=Status.RESOLVED)
                .count()
            )

        register(
            NavItem(
                "requests_mine",
                _("我的诉求"),
                "requests:mine",
                "resident",
                11,
                "📋",
                badge=_to_rate,
                badge_text=_("{n} 件诉求待您评价"),
            )
        )
        register(NavItem("requests_queue", _("诉求工单"), "requests:queue", "staff", 20, "🗂"))

        def _urgency(u: object) -> Strip | None:
            # 超时 · 今日到期 · 待受理 · 待回访 over the requests this user may see, in one
            # query; each links to the queue with the same filter.
            from django.db.models import Q
            from django.urls import reverse

            from linli.requests.models import OPEN_STATUSES, DueState, Status
            from linli.requests.selectors import QueueFilters, due_today_q, request_queue_for

            if not scope_of(u).is_staff:
                return None
            q = reverse("requests:queue")
            is_open = Q(status__in=list(OPEN_STATUSES))
            cells = counted_cells(
                request_queue_for(viewer=u, filters=QueueFilters(status="all")),
                [
                    (_("超时"), is_open & Q(due_state=DueState.OVERDUE), q + "?due=overdue", "bad"),
                    (_("今日到期"), due_today_q(), q + "?due=today", "warn"),
                    (_("待受理"), Q(status=Status.SUBMITTED), q + "?status=submitted", ""),
                    (_("待回访"), Q(status=Status.RESOLVED), q + "?status=resolved", ""),
                ],
            )
            return Strip("requests", _("诉求"), cells)

        register_strip("requests", _urgency, order=10)

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
