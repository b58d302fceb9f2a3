from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProjectsConfig(AppConfig):
    name = "linli.projects"
    label = "projects"
    verbose_name = _("微更新与社区基金")

    def ready(self) -> None:
        from linli.accounts.scope import scope_of
        from linli.core import ratelimit
        from linli.core.nav import NavItem, register
        from linli.projects import permissions  # noqa: F401  (registers the rules)
        from linli.projects.permissions import VIEW_ROLES

        # The app's own caps, kept next to the app (core's table is shared by every
        # app; setdefault lets a deployment's LINLI_RATE_LIMITS still override them).
        lim = ratelimit.Limit
        ratelimit.LIMITS.setdefault("projects.propose", {"user": lim(per_minute=3, per_day=20)})
        ratelimit.LIMITS.setdefault("projects.cosign", {"user": lim(per_minute=10, per_day=100)})
        ratelimit.LIMITS.setdefault("projects.vote", {"user": lim(per_minute=10, per_day=100)})
        ratelimit.LIMITS.setdefault("projects.comment", {"user": lim(per_minute=5, per_day=50)})
        ratelimit.LIMITS.setdefault("projects.fund", {"user": lim(per_minute=30, per_day=1_000)})

        def resident(u: object) -> bool:
            return scope_of(u).resident_id is not None

        def staff(u: object) -> bool:
            return scope_of(u).has_role(*VIEW_ROLES)

        register(
            NavItem(
                "micro", _("微更新"), "projects:micro_list", "resident", 24, "🛠️", visible=resident
            )
        )
        register(
            NavItem(
                "pb",
                _("社区营造投票"),
                "projects:pb_list",
                "resident",
                25,
                "🏗️",
                visible=resident,
                placement="more",
            )
        )
        register(
            NavItem("pb_staff", _("社区营造"), "projects:pb_list", "staff", 39, "🏗️", visible=staff)
        )
        register(
            NavItem(
                "micro_staff",
                _("微更新审核"),
                "projects:workbench",
                "staff",
                38,
                "🛠️",
                visible=staff,
            )
        )
