"""Lighthouse on the demo: performance, accessibility, best practices and SEO of each main page.

Starts `livedesk demo` on a free port with a fresh SQLite database, signs in to the desk with an
editor's token (Lighthouse gets the session cookie as a header), waits until the demo's first
quick posts are out (a post pushed to the top of a page while Lighthouse loads it counts as a
layout shift), and runs Lighthouse 12 (npm, `npm ci` in the project) on Debian's Chromium with
its default mobile settings. Prints one line per page with the four scores, 0 to 100.

    python bench/lighthouse.py [--chromium /usr/bin/chromium] [--pages / /e/harbour-summit ...]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from livedesk.newsroom import demo

ROOT = Path(__file__).resolve().parents[1]
LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
SLUG = "harbour-summit"
PAGES = ["/", f"/e/{SLUG}", f"/e/{SLUG}/timeline", f"/e/{SLUG}/compare", "/desk", f"/desk/e/{SLUG}"]
CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_demo(folder: Path) -> tuple[subprocess.Popen, str, dict]:
    port = free_port()
    env = {**os.environ, "LIVEDESK_DATABASE_URL": f"sqlite:///{folder / 'demo.db'}"}
    log = open(folder / "demo.log", "wb")  # noqa: SIM115 - the process keeps it
    process = subprocess.Popen([sys.executable, "-m", "livedesk", "demo", "--port", str(port)], env=env,
                               stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{url}/e/{SLUG}", timeout=2).status_code == 200:
                return process, url, env
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the demo did not start: " + (folder / "demo.log").read_text()[-1000:])


def desk_cookie(url: str, env: dict) -> str:
    """Sign in through the desk's login form with a new editor token; returns the Cookie header."""
    made = subprocess.run([sys.executable, "-m", "livedesk", "token", "create", "--user", "bench", "--role", "editor"],
                          env=env, capture_output=True, text=True, check=True)
    token = made.stdout.strip().splitlines()[-1]
    with httpx.Client(base_url=url) as client:
        form = client.get("/desk/login").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
        client.post("/desk/login", data={"csrf": csrf, "token": token, "next": "/desk"})
        session = [f"{c.name}={c.value}" for c in client.cookies.jar if c.name != "livedesk_login"]
    return "; ".join(session)


def scores(url: str, chromium: str, cookie: str | None) -> dict[str, int]:
    command = [str(LIGHTHOUSE), url, "--output=json", "--quiet", f"--chrome-path={chromium}",
               "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
               f"--only-categories={','.join(CATEGORIES)}"]
    if cookie:
        command.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise SystemExit(f"lighthouse failed on {url}: {done.stderr[-800:]}")
    report = json.loads(done.stdout)
    return {name: round((report["categories"][name]["score"] or 0) * 100) for name in CATEGORIES}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--pages", nargs="*", default=PAGES)
    args = parser.parse_args()
    if not LIGHTHOUSE.exists():
        raise SystemExit("needs Lighthouse: run `npm ci` in the project")
    with tempfile.TemporaryDirectory() as folder:
        process, url, env = start_demo(Path(folder))
        try:
            cookie = desk_cookie(url, env)
            time.sleep(demo.FAST_POSTS * demo.TICK_SECONDS + 5)
            print(f"{'page':28} " + " ".join(f"{c:>14}" for c in CATEGORIES))
            for path in args.pages:
                got = scores(url + path, args.chromium, cookie if path.startswith("/desk") else None)
                print(f"{path:28} " + " ".join(f"{got[c]:>14}" for c in CATEGORIES), flush=True)
        finally:
            process.terminate()
            process.wait(timeout=15)


if __name__ == "__main__":
    main()
