from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NoticesConfig(AppConfig):
    name = "linli.notices"
    label = "notices"
    verbose_name = _("信息公开")

    def ready(self) -> None:
        from linli.accounts.scope import scope_of
        from linli.core.nav import NavItem, register
        from linli.notices import permissions  # noqa: F401  (registers the rules)
        from linli.notices.permissions import PUBLISH_ROLES, STAFF_VIEW_ROLES

        def _unread(u: Any) -> int:
            from linli.notices.selectors import notice_list_for_resident

            return notice_list_for_resident(viewer=u).exclude(reads__user_id=u.pk).count()

        register(
            NavItem(
                "notices",
                _("社区公告"),
                "notices:list",
                "resident",
                5,
                "📢",
                visible=lambda u: scope_of(u).resident_id is not None,
                badge=_unread,
                badge_text=_("{n} 条未读公告"),
            )
        )
        register(
            NavItem(
                "notices_manage",
                _("公告与知晓率"),
                "notices:manage",
                "staff",
                40,
                "📢",
                visible=lambda u: scope_of(u).has_role(*STAFF_VIEW_ROLES, *PUBLISH_ROLES),
            )
        )
