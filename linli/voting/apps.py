from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VotingConfig(AppConfig):
    name = "linli.voting"
    label = "voting"
    verbose_name = _("投票站")

    def ready(self) -> None:
        from linli.core.nav import NavItem, register
        from linli.voting import permissions, states  # noqa: F401  (registers the rules)

        register(NavItem("voting", _("投票站"), "voting:ballot_list", "resident", 30, "🗳️"))
        register(NavItem("voting_staff", _("投票管理"), "voting:ballot_list", "staff", 30, "🗳️"))
