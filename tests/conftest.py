"""Shared fixtures: the app in this process, one real `livedesk serve` for the session, Chromium,
local HTTP servers, and SSE clients.

`server` is the app run inside the test process: its lifespan runs once on an event loop of its
own, and each client speaks to it through httpx's ASGI transport, with no socket and no process.
A module that needs a real process (streams read off a socket, Chromium) asks for `live_server`,
or overrides `server` with it. Both share one database: a fresh SQLite file per session unless
LIVEDESK_TEST_DATABASE_URL names a PostgreSQL database (and LIVEDESK_TEST_BROKER_URL a Redis
server), as CI's second run does. Under pytest-xdist (the default where it is installed) each
worker process has its own session: its own app, server and SQLite file, or PostgreSQL database.
"""

from __future__ import annotations

import json
import os
import re
import socket
import ssl
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anyio
import anyio.from_thread
import httpx
import pytest
from asgi_lifespan import LifespanManager

# The suite aligns as the default install does, without sentence embeddings, even where the
# `semantic` extra is installed (as CI installs it); tests/test_semantic.py switches them on.
os.environ.setdefault("LIVEDESK_SEMANTIC", "off")
# Desk passwords are hashed at the lowest cost, as a test suite that signs in hundreds of times
# should (tests/test_config.py checks that a site's default stays the standard cost).
os.environ.setdefault("LIVEDESK_PASSWORD_COST", "test")

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
LIVEDESK = [sys.executable, "-m", "livedesk"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def soon_after(published_at: str) -> str:
    """A past time minutes after another post's, for an own post that reports the same thing.

    Pasted pages without dates get times of the last day, while alignment only compares posts
    within hours of each other: an own post published now could fall outside that.
    """
    after = datetime.fromisoformat(published_at) + timedelta(minutes=5)
    return min(after, datetime.now(UTC) - timedelta(minutes=1)).isoformat()


def database_url(tmp_path: Path) -> str:
    return os.environ.get("LIVEDESK_TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'livedesk.db'}"


def create_database(conn: Any, name: str) -> None:
    """A new test database whose commits return before their WAL reaches the disk: tests kill
    livedesk's processes, never PostgreSQL, so they see the same, while a commit costs no fsync."""
    conn.execute(f"CREATE DATABASE {name}")
    conn.execute(f"ALTER DATABASE {name} SET synchronous_commit = off")


@contextmanager
def fresh_postgres(prefix: str) -> Iterator[str]:
    """A new, empty PostgreSQL database on the test server (LIVEDESK_TEST_DATABASE_URL's), dropped after."""
    import psycopg

    admin, shared = _admin_url(os.environ["LIVEDESK_TEST_DATABASE_URL"])
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        create_database(conn, name)
    try:
        yield shared.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """With pytest-xdist installed (the `test` extra), the suite runs in one process per CPU, each
    test file whole in one of them (its module fixtures start once); `-n 0` runs it in this one."""
    if (config.pluginmanager.hasplugin("xdist") and getattr(config.option, "numprocesses", 0) is None
            and "PYTEST_XDIST_WORKER" not in os.environ):
        config.option.numprocesses = "auto"
        if config.option.dist == "no":
            config.option.dist = "loadfile"


def _admin_url(url: str) -> tuple[str, Any]:
    from sqlalchemy.engine import make_url

    shared = make_url(url)
    return shared.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False), shared


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist each worker runs its share of the suite on a PostgreSQL database of its
    own (LIVEDESK_TEST_DATABASE_URL's name + the worker's), as one run alone would: the tests'
    session app, servers and nodes all read it from the environment."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    url = os.environ.get("LIVEDESK_TEST_DATABASE_URL", "")
    if not worker or not url.startswith("postgresql"):
        return
    import psycopg

    admin, shared = _admin_url(url)
    name = f"{shared.database}_{worker}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        create_database(conn, name)
    config._livedesk_worker_db = (admin, name)  # type: ignore[attr-defined]
    os.environ["LIVEDESK_TEST_DATABASE_URL"] = shared.set(database=name).render_as_string(hide_password=False)


def pytest_unconfigure(config: pytest.Config) -> None:
    made = getattr(config, "_livedesk_worker_db", None)
    if made is not None:
        import psycopg

        admin, name = made
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def broker_url() -> str:
    return os.environ.get("LIVEDESK_TEST_BROKER_URL") or "memory://"


def run_cli(*args: str, env: dict | None = None, check: bool = True, input: str | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [*LIVEDESK, *args], capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=120, input=input
    )
    if check and result.returncode != 0:
        raise AssertionError(f"livedesk {' '.join(args)} failed: {result.stderr}")
    return result


def cli_here(*args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """`livedesk ARGS` run by livedesk's `main` in this process, as `run_cli` runs it in a process
    of its own: the same exit code, stdout and stderr, without starting Python and importing
    livedesk again. For commands whose process itself is not what a test checks (tests/test_cli.py
    and tests/test_hostile_input.py run real ones); `env` is set for the command's run alone."""
    import io
    from concurrent.futures import ThreadPoolExecutor
    from contextlib import redirect_stderr, redirect_stdout
    from unittest import mock

    from livedesk.cli import main
    from livedesk.config import get_settings

    out, err, code = io.StringIO(), io.StringIO(), 0

    def run() -> None:
        nonlocal code
        try:
            with redirect_stdout(out), redirect_stderr(err):
                main()
        except SystemExit as exit:
            code = exit.code if isinstance(exit.code, int) else int(exit.code is not None)

    with mock.patch.dict(os.environ, env or {}), mock.patch.object(sys, "argv", ["livedesk", *args]):
        get_settings.cache_clear()  # the command reads its settings from `env`, as a new process would
        try:
            # in a thread of its own, as in a process: no event loop of this one (Playwright's) is running there
            with ThreadPoolExecutor(1) as pool:
                pool.submit(run).result()
        finally:
            get_settings.cache_clear()
    done = subprocess.CompletedProcess(["livedesk", *args], code, out.getvalue(), err.getvalue())
    if check and done.returncode != 0:
        raise AssertionError(f"livedesk {' '.join(args)} failed: {done.stderr}")
    return done


def score_here(scorer: Path, *args: str) -> str:
    """What a scorer of ../shared/corpus prints, run in this process with its `livedesk` commands
    run by `cli_here` (a scorer runs one per page or event)."""
    import importlib.util
    import io
    from contextlib import redirect_stdout
    from types import SimpleNamespace

    def run(command: list[str], **_options: Any) -> subprocess.CompletedProcess:
        assert command[0] == "livedesk", command
        return cli_here(*command[1:], check=False)

    spec = importlib.util.spec_from_file_location(f"corpus_{scorer.stem}", scorer)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.subprocess = SimpleNamespace(run=run, TimeoutExpired=subprocess.TimeoutExpired)
    printed = io.StringIO()
    with redirect_stdout(printed):
        module.main(list(args))
    return printed.getvalue()


def write_to(url: str, work: Callable[[Any], Any]) -> Any:
    """Runs `work(conn)` in one write transaction on the database at `url`."""
    from livedesk.store.db import make_engine, run_write

    engine = make_engine(url)
    try:
        return run_write(engine, work)
    finally:
        engine.dispose()


def make_token(url: str, role: str, user: str | None = None) -> str:
    """An API token for a new user of `role`, written straight into the database at `url`."""
    from livedesk.store import accounts

    return write_to(url, lambda conn: accounts.create_token(conn, accounts.ensure_user(conn, user or unique(role), role).id))


PASSWORD = "harbour-lights-42"


def make_user(site: Site, role: str = "editor", password: str = PASSWORD) -> str:
    """A new user of `role` with a desk password, written straight into the site's database, as
    `livedesk user password` does (tests/test_desk.py signs in once with a user the CLI made)."""
    from livedesk.store import accounts

    name = unique(role)
    write_to(site.env["LIVEDESK_DATABASE_URL"], lambda conn: accounts.set_password(
        conn, accounts.ensure_user(conn, name, role).id, password, os.environ["LIVEDESK_PASSWORD_COST"]))
    return name


def auth(token: str | None, options: dict) -> dict:
    """A client's headers: the bearer token, if any, and those in `options` (taken out of them)."""
    return {**({"Authorization": f"Bearer {token}"} if token else {}), **options.pop("headers", {})}


class Site:
    """What tests ask of a running app, in this process or another: tokens, clients, a GET."""

    url: str
    env: dict

    def token(self, role: str, user: str | None = None) -> str:
        return make_token(self.env["LIVEDESK_DATABASE_URL"], role, user)

    def client(self, token: str | None = None, **options: Any) -> httpx.Client:
        raise NotImplementedError

    def get(self, path: str, **options: Any) -> httpx.Response:
        """One anonymous GET of `path` (with `params`, `headers` or `cookies` in `options`)."""
        with self.client(cookies=options.pop("cookies", None)) as client:
            return client.get(path, **options)


@dataclass
class Server(Site):
    """A real `livedesk serve` subprocess."""

    env: dict
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        """Starts the server and waits until it answers. On its first start, a port that another
        process took since `free_port()` (another test process, or a client's outgoing connection)
        is traded for a new one (and the settings that name its address follow); a restart keeps its
        port, as its readers reconnect there."""
        for _ in range(5):
            first, log = self.process is None, Path(self.env["LIVEDESK_TEST_LOG"])
            told = log.stat().st_size if log.exists() else 0
            with open(log, "ab") as out:  # the process keeps its own copy
                self.process = subprocess.Popen(
                    [*LIVEDESK, "serve", "--port", str(self.port)], env={**os.environ, **self.env}, stdout=out, stderr=out
                )
            if self._answers():
                return self
            said = log.read_bytes()[told:].decode(errors="replace")
            if not (first and "address already in use" in said.lower()):
                raise AssertionError("server exited: " + said[-2000:])
            old = self.url
            self.process, self.port = None, free_port()
            self.env.update({key: value.replace(old, self.url) for key, value in self.env.items()})  # LIVEDESK_PUBLIC_URL
        raise AssertionError(f"no free port for the server: {said[-2000:]}")

    def _answers(self) -> bool:
        """Waits until the server answers (True), or its process ends (False)."""
        assert self.process is not None
        deadline = time.monotonic() + 60  # generous: a busy machine imports slowly
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                if httpx.get(self.url + "/api/events", timeout=1).status_code == 200:
                    return True
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop(kill=True)  # never leave a half-started server behind
        raise AssertionError("server did not start")

    def stop(self, kill: bool = False) -> None:
        if self.process and self.process.poll() is None:
            (self.process.kill if kill else self.process.terminate)()
            self.process.wait(timeout=15)

    def client(self, token: str | None = None, **options: Any) -> httpx.Client:
        # a generous read timeout: a busy machine slows a request, only a hung one should fail a test
        options.setdefault("timeout", 60)
        return httpx.Client(base_url=self.url, headers=auth(token, options), **options)


class App(Site):
    """The app as `livedesk serve` runs it, inside the test process.

    Its lifespan (engine, broker, hub, scheduler) runs once, on an event loop in a thread of its
    own; every client hands its requests to that loop through httpx's ASGI transport. The same
    face as `Server`: `url`, `env`, `client()`, `token()`.
    """

    url = "http://testserver"

    def __init__(self, env: dict) -> None:
        self.env = env

    def start(self) -> App:
        from livedesk.config import Settings
        from livedesk.newsroom.follow import poller
        from livedesk.store.db import make_engine, upgrade
        from livedesk.web.app import server_app

        settings = Settings(**{k.removeprefix("LIVEDESK_").lower(): v for k, v in self.env.items() if k.startswith("LIVEDESK_")})
        engine = make_engine(settings.database_url)
        upgrade(engine)  # as `livedesk serve` does first
        engine.dispose()
        self._portal_cm = anyio.from_thread.start_blocking_portal()
        self.portal = self._portal_cm.__enter__()
        self._stopping = self.portal.call(anyio.Event)
        self._serving, self._transport = self.portal.start_task(self._serve, server_app(settings, background=[poller]))
        return self

    async def _serve(self, app: Any, *, task_status: Any) -> None:
        async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30) as manager:
            # like a real server, a crash is answered with a 500 (and logged), not raised here
            task_status.started(httpx.ASGITransport(app=manager.app, raise_app_exceptions=False))
            await self._stopping.wait()

    def stop(self) -> None:
        self.portal.call(self._stopping.set)
        self._serving.result(timeout=30)
        self._portal_cm.__exit__(None, None, None)

    def client(self, token: str | None = None, **options: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, transport=_PortalTransport(self), headers=auth(token, options), **options)


class _PortalTransport(httpx.BaseTransport):
    """A blocking transport for httpx.Client: each request runs on the app's own event loop."""

    def __init__(self, app: App) -> None:
        self.app = app

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.app.portal.call(self._handle, request)

    async def _handle(self, request: httpx.Request) -> httpx.Response:
        with anyio.fail_after(60):  # a stream never ends: such a request belongs on `live_server`
            response = await self.app._transport.handle_async_request(request)
            body = b"".join([chunk async for chunk in response.stream])
        return httpx.Response(response.status_code, headers=response.headers, content=body, extensions=response.extensions)


def server_env(tmp_path: Path, **extra: str) -> dict:
    return {
        "LIVEDESK_DATABASE_URL": database_url(tmp_path),
        "LIVEDESK_BROKER_URL": broker_url(),
        "LIVEDESK_TEST_LOG": str(tmp_path / "server.log"),
        "LIVEDESK_SCHEDULER_INTERVAL_S": "0.2",
        **extra,
    }


@pytest.fixture(scope="session")
def shared_env(tmp_path_factory) -> dict:
    """Settings of the session's shared app and server: one database, fast scheduler, keep-alives,
    reader counts (each node reports its readers every 0.5 s) and desk presence (a desk page that
    leaves drops off after three 2 s beats).

    They poll no outlets' sources (tests/test_follow.py runs nodes that do): a poll would be a
    change of its own in the middle of other tests.
    """
    return server_env(tmp_path_factory.mktemp("srv"), LIVEDESK_KEEPALIVE_S="1", LIVEDESK_POLL_SOURCES="false",
                      LIVEDESK_READERS_REPORT_S="0.5", LIVEDESK_PRESENCE_BEAT_S="2")


@pytest.fixture(scope="session")
def app_server(shared_env) -> Iterator[App]:
    app = App(shared_env).start()
    yield app
    app.stop()


@pytest.fixture(scope="session")
def live_server(shared_env, app_server) -> Iterator[Server]:
    """One real `livedesk serve` for the session, on the in-process app's database.

    With SQLite and the in-memory broker the two do not hear each other's changes at once:
    write through the one you read from.
    """
    srv = Server({**shared_env, "LIVEDESK_TEST_LOG": str(Path(shared_env["LIVEDESK_TEST_LOG"]).with_name("live.log"))}).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def server(app_server) -> App:
    """The app in this process; a module that needs a real process overrides this with `live_server`."""
    return app_server


@pytest.fixture(scope="module")
def editor(server) -> Iterator[httpx.Client]:
    with server.client(server.token("editor")) as client:
        yield client


@pytest.fixture(scope="module")
def live_editor(live_server) -> Iterator[httpx.Client]:
    with live_server.client(live_server.token("editor")) as client:
        yield client


@pytest.fixture
def event(editor) -> str:
    slug = unique("ev")
    response = editor.post("/api/events", json={"slug": slug, "title": f"Event {slug}"})
    assert response.status_code == 201, response.text
    return slug


# ---- Chromium ------------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One Chromium for the session, driven by Playwright."""
    if not Path(CHROMIUM).exists():
        pytest.skip("needs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    """A fresh browser context at a desktop size."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    yield ctx
    ctx.close()


def log_in(page: Any, server: Site, name: str, password: str = PASSWORD) -> None:
    """Sign in to the desk through its login form (tests/test_desk.py checks the form itself)."""
    from playwright.sync_api import expect

    page.goto(server.url + "/desk")
    expect(page).to_have_url(re.compile(r"/desk/login\?next=/desk$"))
    page.fill("#login-name", name)
    page.fill("#login-password", password)
    page.click("#login-form button.primary")
    expect(page).to_have_url(server.url + "/desk")


@pytest.fixture(scope="session")
def editor_sessions(live_server: Server, browser: Any) -> list[dict]:
    """Two editors of their own, each signed in once through the login form: the browser storage
    (the session cookie) a new context starts from to be them."""
    states = []
    for _ in range(2):
        ctx = browser.new_context()
        log_in(ctx.new_page(), live_server, make_user(live_server, "editor"))
        states.append(ctx.storage_state())
        ctx.close()
    return states


@pytest.fixture
def two_editors(browser: Any, editor_sessions: list[dict]) -> Iterator[list[Any]]:
    """Two signed-in editors' pages, each in a fresh context of its own, on `live_server`."""
    contexts = [browser.new_context(viewport={"width": 1280, "height": 900}, storage_state=state) for state in editor_sessions]
    yield [ctx.new_page() for ctx in contexts]
    for ctx in contexts:
        ctx.close()


# ---- local HTTP servers --------------------------------------------------------------------

@contextmanager
def http_server(handler: type[BaseHTTPRequestHandler], host: str = "127.0.0.1", port: int = 0,
                tls: ssl.SSLContext | None = None) -> Iterator[ThreadingHTTPServer]:
    """A real HTTP server on `port` of `host` (a free one by default), answering with `handler` in
    threads; over TLS with the `tls` context, if given."""
    httpd = ThreadingHTTPServer((host, port), handler)
    if tls is not None:
        httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


# ---- waiting -------------------------------------------------------------------------------

def wait_until(condition: Callable[[], Any], timeout: float = 10, message: str = "condition") -> Any:
    """Polls `condition` until it gives a true value, which is returned; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} not met within {timeout}s")
        time.sleep(0.05)


# Test files that open no database and no broker (readers, aligner, fetcher, CLI parse/align):
# they run alike on SQLite and on PostgreSQL, so CI's second run leaves them out (-m "not nodb").
NO_DATABASE = {"test_align_cli", "test_align_labelled", "test_align_normalize", "test_align_seeds", "test_align_times",
               "test_config", "test_fetch_rebinding", "test_hostile_input", "test_ingest_corpus", "test_ingest_fetch", "test_ingest_formats",
               "test_ingest_fuzz", "test_ingest_html", "test_ingest_layouts", "test_ingest_seeds",
               "test_ingest_stamp_families", "test_ingest_text", "test_ingest_times", "test_markup"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that uses Chromium is marked `browser`; browser and multi-node tests are `slow` too,
    so `-m "not slow"` leaves them out. Tests of the files in NO_DATABASE are marked `nodb`."""
    for item in items:
        if item.path.stem in NO_DATABASE:
            item.add_marker(pytest.mark.nodb)
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
        if item.get_closest_marker("browser") or item.get_closest_marker("nodes"):
            item.add_marker(pytest.mark.slow)
    # Files with the most slow tests go first: pytest-xdist hands out whole files in this order,
    # so the long ones start early and no process is left to run one alone at the end.
    slow = Counter(item.path for item in items if item.get_closest_marker("slow"))
    items.sort(key=lambda item: -slow[item.path])


class SSEReader:
    """Reads a stream with a real HTTP client in a thread; keeps every event and comment."""

    def __init__(self, url: str, last_event_id: str | None = None) -> None:
        self.url = url
        self.headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
        self.events: list[dict] = []
        self.comments: list[str] = []
        self.connected = threading.Event()
        self.closed = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        assert self.connected.wait(10), "stream did not connect"

    def _run(self) -> None:
        try:
            with httpx.stream("GET", self.url, headers=self.headers, timeout=httpx.Timeout(10, read=None)) as response:
                assert response.status_code == 200
                self.connected.set()
                current: dict = {}
                for line in response.iter_lines():
                    if self._stop.is_set():
                        break
                    if line == "":
                        if "data" in current:
                            current["data"] = json.loads(current["data"])
                            self.events.append(current)
                        current = {}
                    elif line.startswith(":"):
                        self.comments.append(line)
                    else:
                        key, _, value = line.partition(":")
                        current[key] = value.removeprefix(" ")
        except (httpx.HTTPError, AssertionError):
            pass
        finally:
            self.connected.set()
            self.closed.set()

    def wait_for(self, predicate, timeout: float = 10) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [e for e in self.events if predicate(e)]
            if found:
                return found
            time.sleep(0.02)
        raise AssertionError(f"no matching event within {timeout}s; got {[e.get('event') for e in self.events]}")

    def wait_count(self, n: int, timeout: float = 10) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.events) < n:
            time.sleep(0.02)
        return list(self.events)

    def close(self) -> None:
        self._stop.set()
