from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProjectsConfig(AppConfig):
    name = "linli.projects"
    label = "projects"
    verbose_name = _("微更新与社区基金")
