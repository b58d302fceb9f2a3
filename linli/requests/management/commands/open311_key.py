"""Issue an Open311 api_key for a client app: ``manage.py open311_key "App" --community CODE``.
The key is printed once; only its hash is stored. ``--revoke PREFIX`` disables one."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from linli.communities.models import OrgUnit
from linli.requests.models import Open311Client
from linli.requests.services import open311_client_issue


class Command(BaseCommand):
    help = "发放或吊销 Open311 接入密钥。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", nargs="?", default="")
        parser.add_argument("--community", help="community code (jurisdiction_id)")
        parser.add_argument("--contact", default="")
        parser.add_argument("--revoke", metavar="PREFIX")
        parser.add_argument("--list", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["list"]:
            for c in Open311Client.objects.select_related("community").order_by("id"):
                state = "active" if c.is_active else "revoked"
                self.stdout.write(f"{c.prefix}  {c.name}  {c.community.code}  {state}")
            return
        if opts["revoke"]:
            n = Open311Client.objects.filter(prefix=opts["revoke"]).update(is_active=False)
            self.stdout.write(f"revoked {n}")
            return
        if not opts["name"] or not opts["community"]:
            raise CommandError("usage: open311_key NAME --community CODE")
        community = OrgUnit.objects.filter(kind="community", code=opts["community"]).first()
        if community is None:
            raise CommandError(f"no community with code {opts['community']}")
        # Run from the shell by an operator: the platform itself is the issuer.
        client, key = open311_client_issue(
            actor=None, name=opts["name"], community=community, contact=opts["contact"]
        )
        self.stdout.write(f"{client.name} ({community.name}, jurisdiction_id={community.code})")
        self.stdout.write(f"api_key: {key}")
