from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ResourcesConfig(AppConfig):
    name = "linli.resources"
    label = "resources"
    verbose_name = _("资源池与预约")
