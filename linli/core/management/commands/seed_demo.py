"""Load the demo street. Safe to run twice: the roster is built once; each app's demo
data is added once (apps added later still get theirs)."""

from __future__ import annotations

import os
import time
from importlib import import_module
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from linli.accounts.models import Membership, Role, User
from linli.communities.models import OrgUnit, Resident
from linli.core import demo, ratelimit
from linli.core.models import DemoSeed


class Command(BaseCommand):
    help = "Create the demo street (阳光社区 and neighbours) with logins for every role."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument(
            "--households", type=int, default=1900, help="total households (1 900 = demo)"
        )
        parser.add_argument("--quiet", action="store_true")
        # Where the demo will be served, for the closing "Open ..." line (`make demo`
        # passes its HOST/PORT, so `make demo PORT=8101` names the right address).
        parser.add_argument("--host", default=os.environ.get("LINLI_DEMO_HOST", "127.0.0.1"))
        parser.add_argument("--port", default=os.environ.get("LINLI_DEMO_PORT", "8000"))

    def handle(self, *args: Any, **opts: Any) -> None:
        # The demo writes hundreds of requests and comments through the ordinary
        # services; the write rate limits are for users, not for this seeding.
        with ratelimit.suspended():
            self._handle(**opts)

    def _handle(self, **opts: Any) -> None:
        t0 = time.perf_counter()
        if not DemoSeed.objects.filter(app="core").exists():
            if OrgUnit.objects.exists():
                self.stderr.write(
                    "Database already has data that is not the demo; refusing to seed."
                )
                return
            with transaction.atomic():
                ctx = demo.load(seed=opts["seed"], households=opts["households"])
                DemoSeed.objects.create(app="core")
        else:
            ctx = self._context(opts["seed"])
        for config in apps.get_app_configs():
            if not config.name.startswith("linli.") or config.label == "core":
                continue
            try:
                module = import_module(f"{config.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name == f"{config.name}.demo":
                    continue
                raise
            if DemoSeed.objects.filter(app=config.label).exists():
                if hasattr(module, "logins"):
                    module.logins(ctx)
                continue
            t_app = time.perf_counter()
            with transaction.atomic():
                module.seed(ctx)
                DemoSeed.objects.create(app=config.label)
            if opts["verbosity"] >= 2:
                self.stdout.write(f"  {config.label}: {time.perf_counter() - t_app:.2f}s")
        # Seal what the demo wrote, so /audit/ shows checkpoints and verify_audit has
        # something to check from the first minute.
        from linli.core import audit

        audit.seal_all()
        elapsed = time.perf_counter() - t0
        if opts["quiet"]:
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo street ready in {elapsed:.1f}s: {Resident.objects.count()} residents."
            )
        )
        self.stdout.write("")
        self.stdout.write(f"  Demo logins (password for all: {demo.DEMO_PASSWORD})")
        self.stdout.write("  " + "-" * 60)
        for label, login, note in ctx.logins:
            self.stdout.write(f"  {label:<10} {login:<16} {note}")
        self.stdout.write("")
        self.stdout.write(
            f"  Open http://{opts['host']}:{opts['port']}/"
            "  (长辈模式 and English are in the top bar)"
        )

    def _context(self, seed: int) -> demo.DemoContext:
        """Rebuild the context of an already-loaded demo (second run)."""
        import random

        city = OrgUnit.objects.get(code="demo-330100")
        district = OrgUnit.objects.get(code="demo-330105")
        streets = list(
            OrgUnit.objects.filter(kind="street", code__startswith="demo-st-").order_by("id")
        )
        communities = list(
            OrgUnit.objects.filter(kind="community", code__startswith="demo-c").order_by("id")
        )
        ctx = demo.DemoContext(
            random.Random(seed), seed, city, district, streets, communities, communities[0]
        )
        from linli.communities.models import Organisation

        for o in Organisation.objects.all():
            key = o.specialty or o.kind
            ctx.organisations.setdefault(key, o)
        resident_user = User.objects.get(username="resident")
        ctx.users[Role.RESIDENT] = resident_user
        ctx.add_login(
            str(Role.RESIDENT.label), resident_user.phone or "", resident_user.display_name
        )
        for role, username, display, _u, _o in demo.STAFF:
            user = User.objects.get(username=username)
            ctx.users[role] = user
            ctx.add_login(str(Role(role).label), username, display)
        assert Membership.objects.exists()
        return ctx
