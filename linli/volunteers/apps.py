from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VolunteersConfig(AppConfig):
    name = "linli.volunteers"
    label = "volunteers"
    verbose_name = _("志愿服务")

    def ready(self) -> None:
        from linli.accounts.scope import scope_of
        from linli.core.nav import NavItem, register
        from linli.volunteers import permissions  # noqa: F401  (registers rules perms)
        from linli.volunteers.permissions import CHECKIN_ROLES

        def is_resident(u: object) -> bool:
            return scope_of(u).resident_id is not None

        def staff(u: object) -> bool:
            return bool(scope_of(u).community_ids_for(*CHECKIN_ROLES))

        register(
            NavItem(
                "vol_activities",
                _("志愿活动"),
                "volunteers:activity_list",
                "resident",
                33,
                "🙋",
                visible=is_resident,
            )
        )
        register(
            NavItem(
                "vol_profile",
                _("我是志愿者"),
                "volunteers:my_profile",
                "resident",
                34,
                "🧰",
                visible=is_resident,
                placement="more",
            )
        )
        register(
            NavItem(
                "vol_activities_staff",
                _("活动与签到"),
                "volunteers:activity_list",
                "staff",
                45,
                "🙋",
                visible=staff,
            )
        )
        register(
            NavItem(
                "vol_skills",
                _("社区能人库"),
                "volunteers:skills_pool",
                "staff",
                46,
                "🧰",
                visible=staff,
            )
        )
