from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VotingConfig(AppConfig):
    name = "linli.voting"
    label = "voting"
    verbose_name = _("投票站")

    def ready(self) -> None:
        from linli.core.nav import NavItem, register
        from linli.voting import permissions, states  # noqa: F401  (registers the rules)

        def _awaiting(u: object) -> int:
            # Open ballots whose roll holds me (or my household, if I am an adult) with
            # no vote yet and no proxy handed out: one query.
            from django.db.models import Exists, OuterRef, Q
            from django.utils import timezone

            from linli.accounts.scope import scope_of
            from linli.voting.models import Ballot, BallotVoter, ProxyGrant, Vote
            from linli.voting.selectors import ballot_list_for
            from linli.voting.services._common import ADULT_AGE, HOUSEHOLD_ELIGIBILITY

            scope = scope_of(u)
            if scope.resident_id is None:
                return 0
            now = timezone.now()
            adult_year = timezone.localtime(now).year - ADULT_AGE
            mine = Q(resident_id=scope.resident_id) | Q(
                household_id=scope.household_id,
                ballot__eligibility__in=HOUSEHOLD_ELIGIBILITY,
                household__members__pk=scope.resident_id,
                household__members__birth_year__lte=adult_year,
            )
            voter = (
                BallotVoter.objects.filter(
                    mine, community_id=OuterRef("community_id"), ballot_id=OuterRef("pk")
                )
                .exclude(
                    Exists(
                        Vote.objects.filter(
                            community_id=OuterRef("community_id"), voter=OuterRef("pk")
                        )
                    )
                )
                .exclude(
                    Exists(
                        ProxyGrant.objects.filter(
                            community_id=OuterRef("community_id"),
                            voter=OuterRef("pk"),
                            revoked_at__isnull=True,
                        )
                    )
                )
            )
            return (
                ballot_list_for(viewer=u)
                .filter(status=Ballot.Status.OPEN, opens_at__lte=now, closes_at__gt=now)
                .filter(Exists(voter))
                .count()
            )

        register(
            NavItem(
                "voting",
                _("投票站"),
                "voting:ballot_list",
                "resident",
                30,
                "🗳️",
                badge=_awaiting,
                badge_text=_("{n} 项投票待您参与"),
            )
        )
        register(NavItem("voting_staff", _("投票管理"), "voting:ballot_list", "staff", 30, "🗳️"))
