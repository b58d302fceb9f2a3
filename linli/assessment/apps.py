from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentConfig(AppConfig):
    name = "linli.assessment"
    label = "assessment"
    verbose_name = _("考核评价")

    def ready(self) -> None:
        from linli.assessment import permissions  # noqa: F401  (registers rules perms)
        from linli.assessment.permissions import is_assessment_staff
        from linli.core.nav import NavItem, register

        register(
            NavItem(
                "assessment_board",
                _("考核评价"),
                "assessment:board",
                "staff",
                70,
                "📈",
                visible=is_assessment_staff,
            )
        )
        register(
            NavItem(
                "assessment_public",
                _("社区考核结果"),
                "assessment:public_home",
                "resident",
                90,
                "🧾",
                placement="more",
            )
        )
