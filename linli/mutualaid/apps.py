from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MutualaidConfig(AppConfig):
    name = "linli.mutualaid"
    label = "mutualaid"
    verbose_name = _("邻里互助与社区合伙人")
