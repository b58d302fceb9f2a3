"""Compile every linli/locale/*/LC_MESSAGES/*.po and every app's own
linli/<app>/locale/*/LC_MESSAGES/*.po to .mo with polib (pure Python), so a fresh machine
needs no system gettext. Run by the Makefile on install. Newer apps keep their own
catalogue so that apps written side by side never edit one shared .po file."""

from __future__ import annotations

import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent / "linli"


def main() -> int:
    count = 0
    paths = sorted(ROOT.glob("locale/*/LC_MESSAGES/*.po")) + sorted(
        ROOT.glob("*/locale/*/LC_MESSAGES/*.po")
    )
    for po_path in paths:
        po = polib.pofile(str(po_path))
        po.save_as_mofile(str(po_path.with_suffix(".mo")))
        count += 1
        done = sum(1 for e in po if e.translated())
        print(f"{po_path.relative_to(ROOT.parent)}: {done}/{len(po)} translated")
    return 0 if count else 1


if __name__ == "__main__":
    sys.exit(main())
