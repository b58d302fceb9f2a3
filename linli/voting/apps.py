from django.apps import AppConfig


class VotingConfig(AppConfig):
    name = "linli.voting"
    label = "voting"
    verbose_name = "投票站"
