"""``makemessages`` that also knows ``_l`` — the name our ``states.py`` tables give
``gettext_lazy`` — so transition labels and refusal messages reach the catalogues
(Django's own command only looks for ``_``, ``gettext``, ``gettext_lazy`` …)."""

from __future__ import annotations

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=_l"]
