"""How well `livedesk parse` reads real live pages: runs the labelled corpus's scorer blind and
with hints (outlet, zone and date given) and prints both totals.

    python bench/ingest_eval.py [--pages]     # --pages also prints the per-page lines

The corpus lives in ../shared/corpus beside the repository; `livedesk` must be on PATH.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCORER = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "score.py"


def run(hinted: bool) -> list[str]:
    command = [sys.executable, str(SCORER)] + (["--hinted"] if hinted else [])
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return result.stdout.strip().splitlines()


def main() -> None:
    if not SCORER.exists():
        sys.exit(f"no corpus scorer at {SCORER.parent.name}/{SCORER.name}")
    for hinted in (False, True):
        lines = run(hinted)
        if "--pages" in sys.argv:
            print("\n".join(lines[:-1]))
        print(lines[-1])


if __name__ == "__main__":
    main()
