"""Issue an API token for a user; the key is printed once (only its hash is kept)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from linli.accounts.models import User
from linli.accounts.services import api_token_issue
from linli.core.errors import DomainError


class Command(BaseCommand):
    help = "Issue a bearer token for /api/v1/ to a user."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("name", help="what the token is for, e.g. 网格巡查App")
        parser.add_argument(
            "--scopes",
            default="",
            help="comma-separated: read, write:<app> (e.g. read,write:requests); "
            "default: every scope",
        )
        parser.add_argument("--days", type=int, default=90, help="days until it expires")

    def handle(self, *args: Any, **opts: Any) -> None:
        user = User.objects.filter(username=opts["username"]).first()
        if user is None:
            raise CommandError(f"No user named {opts['username']!r}")
        scopes = [s for s in opts["scopes"].split(",") if s.strip()] or None
        try:
            token, key = api_token_issue(
                user=user, name=opts["name"], scopes=scopes, days=opts["days"]
            )
        except DomainError as exc:
            raise CommandError(str(exc.message)) from exc
        self.stdout.write(key)
        self.stderr.write(f"scopes: {token.scopes}; expires: {token.expires_at:%Y-%m-%d %H:%M}")
