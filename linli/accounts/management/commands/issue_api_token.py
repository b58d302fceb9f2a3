"""Issue an API token for a user; the key is printed once (only its hash is kept)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from linli.accounts.models import User
from linli.accounts.services import api_token_issue


class Command(BaseCommand):
    help = "Issue a bearer token for /api/v1/ to a user."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("name", help="what the token is for, e.g. 网格巡查App")

    def handle(self, *args: Any, **opts: Any) -> None:
        user = User.objects.filter(username=opts["username"]).first()
        if user is None:
            raise CommandError(f"No user named {opts['username']!r}")
        _token, key = api_token_issue(user=user, name=opts["name"])
        self.stdout.write(key)
