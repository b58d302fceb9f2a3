from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveysConfig(AppConfig):
    name = "linli.surveys"
    label = "surveys"
    verbose_name = _("问卷调查与微心愿")

    def ready(self) -> None:
        from linli.accounts.scope import scope_of
        from linli.core.nav import NavItem, register
        from linli.surveys import permissions  # noqa: F401  (registers rules perms)
        from linli.surveys.permissions import PROXY_ROLES, RESULT_ROLES

        def is_resident(u: object) -> bool:
            return scope_of(u).resident_id is not None

        def staff(u: object) -> bool:
            return bool(scope_of(u).community_ids_for(*RESULT_ROLES, *PROXY_ROLES))

        def wish_staff(u: object) -> bool:
            # The same test the wish queue itself makes (a street officer may read
            # results but does not check wishes: a menu entry would lead to a 404).
            return bool(scope_of(u).community_ids_for(*PROXY_ROLES))

        register(
            NavItem(
                "surveys", _("问卷调查"), "surveys:list", "resident", 36, "📝", visible=is_resident
            )
        )
        register(
            NavItem(
                "wishes",
                _("微心愿"),
                "surveys:wishes",
                "resident",
                37,
                "🌟",
                visible=is_resident,
                placement="more",
            )
        )
        register(
            NavItem(
                "surveys_staff", _("问卷调查"), "surveys:list", "staff", 60, "📝", visible=staff
            )
        )
        register(
            NavItem(
                "wishes_staff",
                _("微心愿"),
                "surveys:wish_queue",
                "staff",
                61,
                "🌟",
                visible=wish_staff,
            )
        )
