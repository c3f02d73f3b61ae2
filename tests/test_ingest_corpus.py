"""The labelled corpus of real live pages: reading them must not get worse.

Runs the corpus's own scorer (which calls `livedesk parse` on every page) blind and with hints,
and fails when blind F1 or hinted exact-UTC share drops more than 0.02 below what was reached.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import SHARED

SCORER = SHARED / "corpus" / "score.py"
BLIND_F1_FLOOR = 0.96
HINTED_UTC_FLOOR = 0.97
TOTAL_RE = re.compile(r"F1 (?P<f1>[0-9.]+); clock (?P<c>[0-9]+)/(?P<cn>[0-9]+) \([0-9]+%\); utc (?P<u>[0-9]+)/(?P<un>[0-9]+)")


def _totals(hinted: bool) -> re.Match[str]:
    scripts = Path(sys.executable).parent  # the `livedesk` of this environment
    env = {**os.environ, "PATH": f"{scripts}{os.pathsep}{os.environ.get('PATH', '')}"}
    command = [sys.executable, str(SCORER)] + (["--hinted"] if hinted else [])
    output = subprocess.run(command, capture_output=True, text=True, check=True, env=env, timeout=900).stdout
    match = TOTAL_RE.search(output.strip().splitlines()[-1])
    assert match is not None, output[-500:]
    return match


def test_blind_posts_f1_holds() -> None:
    totals = _totals(hinted=False)
    assert float(totals["f1"]) >= BLIND_F1_FLOOR


def test_hinted_utc_holds() -> None:
    totals = _totals(hinted=True)
    assert int(totals["u"]) / int(totals["un"]) >= HINTED_UTC_FLOOR
