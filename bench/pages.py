"""Event page benchmark: `livedesk serve` against nginx serving the same HTML as a file.

Creates a 500-post event in a fresh SQLite database, starts a real `livedesk serve`, saves
the HTML of /e/{slug} to a folder, and serves that folder with nginx from a temporary
configuration (one worker process, like the one livedesk process). wrk then loads each
with the same number of connections. Printed: both request rates, their ratio, and the
latency percentiles wrk reports, and each server's CPU time per request (which other work on a
busy machine does not inflate, unlike the latency). Needs wrk and nginx on PATH.

    python bench/pages.py [--connections 50] [--seconds 10] [--threads 2] [--nice -10]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from livedesk.broker.memory import MemoryBroker
from livedesk.config import Settings
from livedesk.newsroom import publish
from livedesk.newsroom.roles import Actor
from livedesk.newsroom.room import Newsroom
from livedesk.store.db import upgrade

SLUG = "bench-port-strike"
TOPICS = ["strike", "ferries", "weather", "politics", "markets"]
PARAGRAPH = (
    "Crews at the eastern quay stayed on the picket line through the night while the operator "
    "and the union swapped written proposals. A spokeswoman for the harbour office said the "
    "next sailing would be announced once both sides had signed the interim timetable."
)
NGINX_CONF = """
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    types {{ text/html html; }}
    server {{
        listen 127.0.0.1:{port};
        root {prefix}/www;
        location / {{ index index.html; }}
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed(database_url: str, posts: int) -> None:
    room = Newsroom.open(Settings(database_url=database_url), MemoryBroker())
    upgrade(room.engine)
    actor = Actor(None, "Bench Desk", "admin")
    publish.create_event(room, {
        "slug": SLUG, "title": "Port strike: ferries held at Tarnholm",
        "standfirst": "Crews walk out over the winter timetable; every crossing to Skerrvik is cancelled.",
        "lead_media": {"url": "/static/demo/harbour-skyline.svg", "alt": "The harbour at dawn",
                       "caption": "The quay on the first morning.", "credit": "Illustration"},
        "key_points": [{"text": f"Key point {i}: talks continue at the harbour office."} for i in range(4)],
        "links": [{"url": "/topics", "title": "All topics"}],
    }, actor)
    for i in range(posts):
        data = {"headline": f"Update {i}: the picket holds" if i % 3 else None,
                "body": f"{PARAGRAPH}\n\n**Update {i}.** {PARAGRAPH[:120]}",
                "topics": [TOPICS[i % len(TOPICS)]], "authors": ["Mira Talvik"], "key_event": i % 25 == 0}
        if i % 10 == 0:
            data["media"] = [{"url": "/static/demo/crowd.svg", "caption": "Pickets at gate three.", "credit": "Illustration"}]
        publish.create_post(room, SLUG, data, actor)
    room.close()


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{url} did not answer")


def wrk(url: str, connections: int, seconds: int, threads: int) -> dict:
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", url],
                         capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    latency = {p: _ms(v) for p, v in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.M)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {"rate": rate, "latency": latency, "non2xx": int(errors.group(1)) if errors else 0,
            "socket_errors": socket_errors.group(1) if socket_errors else "none", "raw": out}


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def measured(url: str, pids: list[int], args) -> dict:
    """wrk's figures plus the server's CPU time per request: a cost that other load on the machine does not inflate."""
    before = cpu_seconds(pids)
    result = wrk(url, args.connections, args.seconds, args.threads)
    result["cpu_us"] = (cpu_seconds(pids) - before) / max(1.0, result["rate"] * args.seconds) * 1e6
    return result


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--posts", type=int, default=500)
    parser.add_argument("--nice", type=int, default=0,
                        help="run servers and wrk at this niceness (negative needs root): less noise on a busy machine")
    args = parser.parse_args()
    if args.nice:
        os.nice(args.nice)  # children (livedesk, nginx, wrk) inherit it
    for tool in ("wrk", "nginx"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            raise SystemExit(f"{tool} is needed on PATH")

    work = Path(tempfile.mkdtemp(prefix="livedesk-bench-pages-"))
    database_url = f"sqlite:///{work / 'bench.db'}"
    started = time.perf_counter()
    seed(database_url, args.posts)
    print(f"seeded {args.posts} posts in {time.perf_counter() - started:.1f} s")

    port, nginx_port = free_port(), free_port()
    env = {**os.environ, "LIVEDESK_DATABASE_URL": database_url, "LIVEDESK_BROKER_URL": "memory://"}
    server = subprocess.Popen([sys.executable, "-m", "livedesk", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=open(work / "server.log", "wb"))  # noqa: SIM115 - the server keeps it
    nginx = [shutil.which("nginx") or "/usr/sbin/nginx", "-c", str(work / "nginx.conf"), "-p", str(work)]
    try:
        page_url = f"http://127.0.0.1:{port}/e/{SLUG}"
        wait_http(page_url)
        html = httpx.get(page_url).content
        (work / "www").mkdir()
        work.chmod(0o755)  # nginx's worker drops root and must read the file
        (work / "www" / "index.html").write_bytes(html)
        (work / "nginx.conf").write_text(NGINX_CONF.format(prefix=work, port=nginx_port))
        subprocess.run(nginx, check=True)
        static_url = f"http://127.0.0.1:{nginx_port}/index.html"
        wait_http(static_url)
        assert httpx.get(static_url).content == html

        print(f"page: {len(html):,} bytes; {args.connections} connections, {args.threads} wrk threads, {args.seconds} s each;"
              f" niceness {os.nice(0)}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        wrk(page_url, args.connections, 2, args.threads)  # warm up
        ours = measured(page_url, [server.pid], args)
        master = int((work / "nginx.pid").read_text())
        workers = [int(p) for p in subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout.split()]
        theirs = measured(static_url, [master, *workers], args)
    finally:
        subprocess.run([*nginx, "-s", "stop"], capture_output=True)
        server.terminate()
        server.wait(timeout=15)

    for name, result in (("livedesk serve", ours), ("nginx (static file)", theirs)):
        lat = result["latency"]
        print(f"{name:20} {result['rate']:10,.0f} req/s   p50 {lat['50']:.2f} ms   p90 {lat['90']:.2f} ms"
              f"   p99 {lat['99']:.2f} ms   CPU {result['cpu_us']:.0f} us/request"
              f"   non-2xx {result['non2xx']}   socket errors {result['socket_errors']}")
    ratio = ours["rate"] / theirs["rate"]
    print(f"ratio livedesk/nginx: {ratio:.1%}   (goal >= 25%)   livedesk p99: {ours['latency']['99']:.2f} ms   (goal < 50 ms)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
