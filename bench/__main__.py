"""Run every bench/<area>_<scenario>.py module's ``main(argv)``; names on the command
line pick scenarios by substring (e.g. `python -m bench seed voting`)."""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def discover() -> list[str]:
    return sorted(p.stem for p in HERE.glob("*_*.py") if not p.stem.startswith("_"))


def main(argv: list[str]) -> int:
    wanted = [a for a in argv if not a.startswith("-")]
    passthrough = [a for a in argv if a.startswith("-")]
    names = [n for n in discover() if not wanted or any(w in n for w in wanted)]
    if not names:
        print("no benchmark matches", wanted, "— available:", ", ".join(discover()))
        return 2
    failed = 0
    for name in names:
        print(f"\n=== bench.{name} ===", flush=True)
        t0 = time.perf_counter()
        module = importlib.import_module(f"bench.{name}")
        rc = module.main(passthrough) or 0
        print(
            f"=== bench.{name} finished in {time.perf_counter() - t0:.1f}s (rc={rc}) ===",
            flush=True,
        )
        failed += rc != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
