from django.apps import AppConfig


class RequestsConfig(AppConfig):
    name = "linli.requests"
    label = "requests"
    verbose_name = "诉求"
