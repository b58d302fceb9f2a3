from django.apps import AppConfig


class NoticesConfig(AppConfig):
    name = "linli.notices"
    label = "notices"
    verbose_name = "信息公开"
