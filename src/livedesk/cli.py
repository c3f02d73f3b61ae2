"""The `livedesk` command line (Typer, Rich)."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn

import typer
from rich import box
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from livedesk.newsroom.room import Newsroom

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="livedesk: live coverage engine.",
)
event_app = typer.Typer(no_args_is_help=True, help="Create and list events.")
post_app = typer.Typer(no_args_is_help=True, help="Add posts.")
token_app = typer.Typer(no_args_is_help=True, help="API tokens.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema, backup and restore.")
user_app = typer.Typer(no_args_is_help=True, help="Desk users.")
app.add_typer(event_app, name="event")
app.add_typer(post_app, name="post")
app.add_typer(token_app, name="token")
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
console = Console()

CLI_ACTOR_NAME = "desk"


def fail(message: str) -> NoReturn:
    """One line on stderr, exit code 2: how every CLI error ends."""
    typer.echo(f"livedesk: {message}".splitlines()[0], err=True)
    raise SystemExit(2)


@contextmanager
def _newsroom() -> Iterator[Newsroom]:
    """The command's newsroom on the configured database (migrated first); closed at the end,
    after it aligned what the command published."""
    from livedesk.broker.memory import MemoryBroker
    from livedesk.config import get_settings
    from livedesk.newsroom.room import Newsroom
    from livedesk.store.db import upgrade

    room = Newsroom.open(get_settings(), MemoryBroker())
    try:
        upgrade(room.engine)
        yield room
    finally:
        room.close()


def _actor(name: str = CLI_ACTOR_NAME):
    from livedesk.model import Role
    from livedesk.newsroom.roles import Actor

    return Actor(None, name, Role.admin)


def _serve(host: str, port: int, *, demo: bool = False, listen_fd: int | None = None) -> None:
    """One server process; `listen_fd`: a listening socket handed down by `_serve_workers`."""
    import socket

    import uvicorn

    from livedesk.config import get_settings
    from livedesk.newsroom.follow import poller
    from livedesk.web.app import server_app
    from livedesk.web.protocol import ServeProtocol

    _raise_open_files()
    background = [poller]  # this node's share of polling other outlets' sources
    if demo:
        from livedesk.demo import load_story

        story = load_story()
        os.environ.setdefault("LIVEDESK_SITE_OUTLET", story["outlet"]["name"])
        os.environ.setdefault("LIVEDESK_SITE_NAME", story["outlet"]["name"])
        os.environ.setdefault("LIVEDESK_TIME_ZONE", story["time_zone"])
        get_settings.cache_clear()
    if listen_fd is None:  # else the workers' parent brought the schema up to date
        with _newsroom() as room:
            if demo:
                from livedesk.newsroom import demo as demo_run

                slug = demo_run.seed(room)
                background.append(demo_run.ticker)
                console.print(f"[bold]livedesk demo[/bold]: open http://{host}:{port}/e/{slug}")
    # While the event loop writes a change to thousands of sockets, request threads wait for the
    # GIL at each database round trip; a 1 ms switch interval (default 5) lets them in sooner.
    sys.setswitchinterval(0.001)
    app = server_app(get_settings(), background=background)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http=ServeProtocol.for_app(app.state),
        log_level="warning",
        timeout_keep_alive=30,
        backlog=4096,
        timeout_graceful_shutdown=2,  # open streams end; their readers reconnect elsewhere
        proxy_headers=False,  # the app reads X-Forwarded-* itself, from LIVEDESK_TRUSTED_PROXIES only
    )
    server = uvicorn.Server(config)
    server.run(sockets=None if listen_fd is None else [socket.socket(fileno=listen_fd)])
    if not server.started:
        raise SystemExit(1)


def _raise_open_files() -> None:
    """Every reader holds a socket: lift the open-file limit as far as this process may."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _serve_workers(host: str, port: int, workers: int) -> None:
    """`workers` server processes on one port. Each has its own listening socket (SO_REUSEPORT,
    so the kernel spreads new connections over them), made here and handed down, so a worker
    that dies is started again on the same socket. Without Redis the workers tell each other
    of changes through a local broker (Unix datagram sockets in a directory of this run)."""
    import shutil
    import signal
    import socket
    import subprocess
    import tempfile
    import time

    from livedesk.config import get_settings

    with _newsroom():
        pass  # the schema, brought up to date once
    env = dict(os.environ)
    directory = None
    if get_settings().broker_url in ("memory://", "memory", ""):
        directory = tempfile.mkdtemp(prefix="livedesk-workers-")
        env["LIVEDESK_BROKER_URL"] = f"local://{directory}"
    sockets: list[socket.socket] = []
    running: dict[int, subprocess.Popen] = {}
    stopping = False

    def start(index: int) -> subprocess.Popen:
        fd = sockets[index].fileno()
        return subprocess.Popen([sys.executable, "-m", "livedesk", "serve", "--host", host, "--port", str(port),
                                 "--listen-fd", str(fd)], env=env, pass_fds=(fd,))

    def stop(_signum=None, _frame=None) -> None:
        nonlocal stopping
        stopping = True
        for proc in running.values():
            with contextlib.suppress(OSError):
                proc.terminate()

    try:
        for _ in range(workers):
            family, _type, _proto, _name, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
            sock = socket.socket(family, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind(address)
            sock.listen(4096)
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        started = {}
        for index in range(workers):
            running[index], started[index] = start(index), time.monotonic()
        console.print(f"[bold]livedesk[/bold]: {workers} workers on http://{host}:{port}")
        while running:
            pid, status = os.wait()
            index = next((i for i, proc in running.items() if proc.pid == pid), None)
            if index is None:
                continue
            code = os.waitstatus_to_exitcode(status)
            running.pop(index).returncode = code
            if stopping:
                continue
            if time.monotonic() - started[index] < 5:
                typer.echo(f"livedesk: worker {index + 1} exited as it started ({code}); stopping", err=True)
                stop()
                continue
            typer.echo(f"livedesk: worker {index + 1} exited ({code}); starting it again", err=True)
            running[index], started[index] = start(index), time.monotonic()
    finally:
        stop()
        for proc in running.values():
            proc.wait()
        for sock in sockets:
            sock.close()
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, min=1, max=65535, help="Port to listen on."),
    workers: int = typer.Option(1, min=1, max=64, help="Server processes on the port, to use every core."),
    listen_fd: int | None = typer.Option(None, hidden=True),
) -> None:
    """Run the server (brings the database schema up to date first)."""
    if workers > 1 and listen_fd is None:
        _serve_workers(host, port, workers)
    else:
        _serve(host, port, listen_fd=listen_fd)


@app.command()
def demo(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, min=1, max=65535, help="Port to listen on."),
) -> None:
    """Create the demo event once, tell its next chapter live, and serve it."""
    _serve(host, port, demo=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations."""
    with _newsroom():
        pass
    console.print("database is up to date")


@db_app.command("backup")
def db_backup(file: str = typer.Argument(..., help="The backup file to write.")) -> None:
    """Copy the database to FILE while servers run (SQLite online backup, or pg_dump)."""
    from pathlib import Path

    from livedesk.config import get_settings
    from livedesk.store.backup import backup

    backup(get_settings().database_url, Path(file))
    console.print(f"database copied to {file}", highlight=False)


@db_app.command("restore")
def db_restore(file: str = typer.Argument(..., help="A file written by `livedesk db backup`.")) -> None:
    """Replace the database's contents with a backup (stop the servers first)."""
    from pathlib import Path

    from livedesk.config import get_settings
    from livedesk.store.backup import restore

    restore(get_settings().database_url, Path(file))
    with _newsroom():  # a backup from an older version is brought up to date
        pass
    console.print(f"database restored from {file}", highlight=False)


@event_app.command("create")
def event_create(
    slug: str = typer.Argument(..., help="Short name used in URLs, e.g. harbour-summit."),
    title: str = typer.Option(..., help="The event's title."),
    standfirst: str = typer.Option("", help="One or two sentences under the title."),
) -> None:
    """Create a live event."""
    from livedesk.newsroom import publish

    with _newsroom() as room:
        event = publish.create_event(room, {"slug": slug, "title": title, "standfirst": standfirst}, _actor())
    console.print(f"created event [bold]{event.slug}[/bold]")


@event_app.command("export")
def event_export(
    slug: str = typer.Argument(..., help="The event to export."),
    file: str = typer.Argument(None, help="The archive to write (default: SLUG.zip)."),
) -> None:
    """Write an event to one archive: posts, history, media, key points, sources, developments."""
    from pathlib import Path

    from livedesk.newsroom.archive import export_event

    target = Path(file or f"{slug}.zip")
    with _newsroom() as room:
        counts = export_event(room, slug, target)
    console.print(f"exported {slug} to {target}: " + _counted(counts), highlight=False)


@event_app.command("import")
def event_import(file: str = typer.Argument(..., help="An archive written by `livedesk event export`.")) -> None:
    """Load an event archive into this database (either engine); its slug must be free here."""
    from pathlib import Path

    from livedesk.newsroom.archive import import_event

    with _newsroom() as room:
        slug, counts = import_event(room, Path(file))
    console.print(f"imported {slug}: " + _counted(counts), highlight=False)


@event_app.command("freeze")
def event_freeze(
    slug: str = typer.Argument(..., help="The event to freeze."),
    directory: str = typer.Argument(..., help="Where to write it: serve this folder as the site's root."),
) -> None:
    """Write an event as static HTML with its feeds and JSON-LD, for an archive or a CDN."""
    from pathlib import Path

    from livedesk.config import get_settings
    from livedesk.web.freeze import freeze_event

    with _newsroom():  # the schema brought up to date first
        pass
    written = freeze_event(get_settings(), slug, Path(directory))
    console.print(f"froze {slug} into {directory}: {len(written)} files", highlight=False)


def _counted(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in counts.items())


@event_app.command("list")
def event_list() -> None:
    """List events."""
    from livedesk.store import events as event_store
    from livedesk.store.db import run_read

    def read(conn):
        return [(r, event_store.count_published(conn, r.id)) for r in event_store.list_events(conn)]

    table = Table("slug", "title", "status", "posts", "updated")
    with _newsroom() as room:
        listed = run_read(room.engine, read)
    for row, count in listed:
        table.add_row(row.slug, row.title, row.status, str(count), row.updated_at.strftime("%Y-%m-%d %H:%M UTC"))
    console.print(table)


@post_app.command("add")
def post_add(
    event: str = typer.Argument(..., help="The event's slug."),
    body: str = typer.Option(..., help="The post's text, in Markdown."),
    headline: str | None = typer.Option(None, help="An optional headline."),
    topic: list[str] = typer.Option([], help="A topic; repeat for more."),
    author: str = typer.Option(CLI_ACTOR_NAME, help="Who wrote it."),
    draft: bool = typer.Option(False, help="Save as a draft instead of publishing."),
) -> None:
    """Publish a post to an event."""
    from livedesk.model import PostStatus
    from livedesk.newsroom import publish

    data = {"body": body, "headline": headline, "topics": topic, "authors": [author]}
    if draft:
        data["status"] = PostStatus.draft
    with _newsroom() as room:
        post = publish.create_post(room, event, data, _actor(author))
    console.print(f"{post.status} post [bold]{post.id}[/bold] in {event}")


@token_app.command("create")
def token_create(
    user: str = typer.Option(..., help="User name; created if new."),
    role: str = typer.Option("editor", help="admin, editor, contributor or reader."),
) -> None:
    """Create an API token; it is printed once, alone on the last line."""
    from livedesk.model import Role
    from livedesk.store import accounts
    from livedesk.store.db import run_write

    if role not in {r.value for r in Role}:
        fail(f"unknown role {role!r}; use admin, editor, contributor or reader")

    def work(conn):
        row = accounts.ensure_user(conn, user, role)
        return accounts.create_token(conn, row.id)

    with _newsroom() as room:
        token = run_write(room.engine, work)
    console.print(f"token for {user} ({role}); keep it secret, it is not shown again:", highlight=False)
    print(token)


@user_app.command("password")
def user_password(
    name: str = typer.Argument(..., help="User name; created if new."),
    role: str | None = typer.Option(None, help="admin, editor, contributor or reader (new users: editor)."),
) -> None:
    """Set a user's desk password, read from stdin or asked for."""
    from livedesk.model import Role
    from livedesk.store import accounts
    from livedesk.store.db import run_write

    if role is not None and role not in {r.value for r in Role}:
        fail(f"unknown role {role!r}; use admin, editor, contributor or reader")
    if sys.stdin.isatty():
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < 8:
        fail("the password needs at least 8 characters")

    def work(conn):
        existing = accounts.get_user(conn, name)
        row = accounts.ensure_user(conn, name, role or (existing.role if existing else Role.editor))
        accounts.set_password(conn, row.id, password, room.settings.password_cost)
        return row.role

    with _newsroom() as room:
        given_role = run_write(room.engine, work)
    console.print(f"password set for {name} ({given_role})", highlight=False)


@token_app.command("revoke")
def token_revoke(token: str = typer.Argument(..., help="The token to revoke.")) -> None:
    """Revoke an API token."""
    from livedesk.store import accounts
    from livedesk.store.db import run_write

    with _newsroom() as room:
        revoked = run_write(room.engine, lambda conn: accounts.revoke_token(conn, token))
    if not revoked:
        fail("no such active token")
    console.print("revoked")


@app.command()
def parse(
    path_or_url: str = typer.Argument(..., help="A saved page (HTML, feed, JSON-LD or copied text) or a URL."),
    outlet: str | None = typer.Option(None, help="The outlet's name; overrides what the page says."),
    tz: str | None = typer.Option(None, help="Zone for times the page leaves unzoned, e.g. Europe/Berlin."),
    date: str | None = typer.Option(None, help="Date of the newest post, YYYY-MM-DD, for times the page leaves undated."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Split another outlet's live page into posts with UTC times."""
    import datetime
    import json

    from livedesk.config import get_settings
    from livedesk.ingest.fetch import read_source
    from livedesk.ingest.page import page_to_json

    try:
        day = datetime.date.fromisoformat(date) if date else None
    except ValueError:
        fail(f"bad --date {date!r}: use YYYY-MM-DD")
    try:
        page = read_source(path_or_url, outlet=outlet, tz=tz, date=day,
                           allow_private=get_settings().fetch_allow_private)
    except ValueError as exc:  # ParseError, FetchError
        fail(str(exc))
    except Exception as exc:  # noqa: BLE001 - a reader's bug must still end in one line
        fail(f"could not read {path_or_url}: {type(exc).__name__}")
    data = page_to_json(page)
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return
    console.print(f"[bold]{data['title'] or '(no title)'}[/bold]  {data['outlet'] or ''}", highlight=False)
    width = min(console.width, 100)
    text_width = width - 3 - 12 - 6 - 9  # the other columns and the padding around them
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    table.add_column("#", justify="right", no_wrap=True, width=3)
    table.add_column("time (UTC)", no_wrap=True, width=12)
    table.add_column("headline / text", no_wrap=True, width=text_width)
    table.add_column("media", justify="right", no_wrap=True, width=6)
    for number, post in enumerate(data["posts"], 1):
        first = post["headline"] or post["text"].split("\n", 1)[0]
        when = _short_time(post["time"]) if post["time"] else "no time"
        table.add_row(str(number), when, shorten(first, text_width), str(len(post["media"])) if post["media"] else "")
    console.print(table)
    if warning := _assumed_warning(data):
        typer.echo(warning, err=True)


def shorten(text: str, width: int) -> str:
    """`text` on one line in at most `width` characters, cut after a whole word with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    cut = text[: width - 1]
    if " " in cut and not text[width - 1].isspace():
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:.-") + "…"


def _short_time(iso: str) -> str:
    """'14 May 11:52' from an ISO time in UTC."""
    import datetime

    moment = datetime.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return f"{moment.day:2d} {moment:%b %H:%M}"


def _assumed_warning(data: dict) -> str | None:
    """One line when the page said neither its zone nor its date, with the flag that fixes it."""
    missing = []
    if data["zone_source"] == "assumed":
        missing.append("no time zone (times read as UTC; give --tz ZONE)")
    if data["date_source"] == "assumed":
        missing.append("no date (newest posts taken as today's; give --date YYYY-MM-DD)")
    return f"warning: the page says {' and '.join(missing)}" if missing else None


@app.command()
def ingest(
    event: str = typer.Argument(..., help="The event's slug."),
    paths_or_urls: list[str] = typer.Argument(..., help="Saved pages (attached as pasted text) or URLs (followed)."),
    outlet: str | None = typer.Option(None, help="The outlet's name; overrides what the pages say."),
    tz: str | None = typer.Option(None, help="Zone for times the pages leave unzoned, e.g. Europe/Berlin."),
) -> None:
    """Attach other outlets' coverage to an event and ingest it once (URLs stay followed).

    A page that cannot be read is skipped with one line on stderr; the others are ingested.
    """
    from rich.progress import Progress

    from livedesk.newsroom import Invalid, NotFound

    actor = _actor()
    data = {"outlet": outlet, "timezone": tz}
    errors: list[dict] = []
    with _newsroom() as room, Progress(console=console, transient=True) as progress:
        task = progress.add_task("ingesting", total=len(paths_or_urls))
        for item in paths_or_urls:
            progress.update(task, description=item[-60:])
            try:
                source, count = _ingest_one(room, actor, event, item, data)
            except NotFound:
                raise  # the event itself is missing: nothing can be ingested
            except (Invalid, ValueError, OSError) as exc:
                errors.append({"source": item, "error": str(exc) or type(exc).__name__})
            else:
                name = source["outlet"]["name"] if source["outlet"] else "?"
                console.print(f"source {source['id']}: {item} ({name}): {count} new posts", highlight=False)
            progress.advance(task)
    _skipped(errors, len(paths_or_urls))


def _ingest_one(room: Newsroom, actor, event: str, item: str, data: dict) -> tuple[dict, int]:
    """Attach one saved page or URL to an event and ingest it: (the source, its new posts)."""
    from pathlib import Path

    from livedesk.ingest.decode import decode_bytes
    from livedesk.newsroom import Invalid, follow

    if item.lower().startswith(("http://", "https://")):
        known = {s["id"] for s in follow.list_sources(room, event)}
        source = follow.add_source(room, event, {**data, "url": item}, actor)
        result = follow.refresh(room, source["id"])
        if result.error and source["id"] not in known:
            follow.remove_source(room, event, source["id"], actor)
        if result.error:
            raise Invalid(result.error)
        return follow.get_source(room, event, source["id"]), len(result.created)
    try:
        text, _charset = decode_bytes(Path(item).read_bytes(), None)
    except OSError as exc:
        raise Invalid(f"cannot read {item}: {exc.strerror or exc}") from None
    source = follow.add_source(room, event, {**data, "text": text}, actor)
    return source, source["post_count"]


@app.command()
def align(
    sources: list[str] | None = typer.Argument(None, help="Saved pages or URLs of other outlets' live coverage."),
    manifest: str | None = typer.Option(
        None, help="A TOML file with one \\[\\[source]] table per source: path or url, outlet, timezone, date."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a report."),
) -> None:
    """Link the posts of several outlets that report the same development."""
    import json

    from livedesk.align import semantic
    from livedesk.align.cluster import align as align_posts
    from livedesk.align.report import alignment_to_json
    from livedesk.config import get_settings

    specs = _align_specs(sources or [], manifest)
    posts, errors = _align_posts(specs)
    embedder = semantic.load(get_settings().semantic == "auto", threads=os.cpu_count() or 1)
    with _align_progress(len(posts) > 500 and not as_json) as progress:
        result = align_posts(posts, progress=progress, embedder=embedder)
    data = alignment_to_json(posts, result) | {"errors": errors}
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        _align_report(data)


@app.command("align-event")
def align_event(
    event: str = typer.Argument(..., help="The event's slug."),
    as_json: bool = typer.Option(False, "--json", help="Print the stored alignment as JSON instead of a report."),
) -> None:
    """Align a stored event's posts (its own and other outlets') from scratch and store the result."""
    import json

    from livedesk.newsroom import follow
    from livedesk.store import events as event_store
    from livedesk.store.db import run_read

    with _newsroom() as room:
        row = run_read(room.engine, lambda conn: event_store.require_event(conn, event))
        data = room.developments.recompute(row.id).to_json()
        errors = [{"source": s["url"] or f"source {s['id']}", "error": s["last_error"]}
                  for s in follow.list_sources(room, event) if s["last_error"]]
    data = data | {"errors": errors}
    for e in errors:  # aligned without what these sources failed to bring
        typer.echo(f"livedesk: {e['source']}: {e['error']}".splitlines()[0], err=True)
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        _align_report(data)


def _align_specs(sources: list[str], manifest: str | None) -> list[dict]:
    """One dict per source: path or url, outlet, timezone, date."""
    import datetime
    import tomllib
    from pathlib import Path

    if sources and manifest:
        fail("give sources or --manifest, not both")
    if not manifest:
        if not sources:
            fail("give one or more sources, or --manifest FILE")
        return [{"source": s} for s in sources]
    try:
        tables = tomllib.loads(Path(manifest).read_text(encoding="utf-8")).get("source", [])
    except OSError as exc:
        fail(f"cannot read {manifest}: {exc.strerror or exc}")
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        fail(f"{manifest} is not valid TOML: {exc}")
    if not isinstance(tables, list) or not tables:
        fail(f"{manifest} has no [[source]] tables")
    specs = []
    for number, table in enumerate(tables, 1):
        where = table.get("path") or table.get("url") if isinstance(table, dict) else None
        if not isinstance(where, str):
            fail(f"{manifest}: source {number} needs a path or a url")
        if "path" in table:
            where = str((Path(manifest).parent / where).resolve())
        day = table.get("date")
        if isinstance(day, str):
            try:
                day = datetime.date.fromisoformat(day)
            except ValueError:
                fail(f"{manifest}: source {number} has a bad date {day!r}: use YYYY-MM-DD")
        specs.append({"source": where, "outlet": table.get("outlet"), "tz": table.get("timezone"), "date": day})
    return specs


def _skipped(errors: list[dict], total: int) -> None:
    """Sources that could not be read: one line each on stderr while others were read;
    when none was, one line and exit code 2."""
    if errors and len(errors) == total:
        first = errors[0]["error"]
        fail(first if total == 1 else f"none of the {total} sources could be read; the first: {first}")
    for e in errors:
        typer.echo(f"livedesk: skipped {e['source']}: {e['error']}".splitlines()[0], err=True)


def _align_posts(specs: list[dict]) -> tuple[list, list[dict]]:
    """Parse every source and number its posts <outlet-slug>-<n>, oldest first, so ids stay put.

    A source that cannot be read is skipped with one line on stderr and listed in the errors;
    only when no source can be read does the command fail.
    """
    import datetime
    import re
    from pathlib import Path
    from urllib.parse import urlsplit

    from livedesk.config import get_settings
    from livedesk.ingest.fetch import load_source
    from livedesk.ingest.page import read_page
    from livedesk.model import AlignPost, ParsedPage

    def read(spec: dict, loaded: dict, day: datetime.date | None) -> ParsedPage:
        return read_page(**loaded, outlet=spec.get("outlet"), tz=spec.get("tz"), date=day)

    pages, errors = [], []
    for spec in specs:
        try:
            loaded = load_source(spec["source"], allow_private=get_settings().fetch_allow_private)
            pages.append((spec, loaded, read(spec, loaded, spec.get("date"))))
        except ValueError as exc:  # ParseError, FetchError
            errors.append({"source": spec["source"], "error": str(exc) or type(exc).__name__})
        except Exception as exc:  # noqa: BLE001 - a reader's bug must not stop the other sources
            errors.append({"source": spec["source"], "error": f"could not read it: {type(exc).__name__}"})
    # A page that gives no date is read on the day of the pages that do, so that its zone's
    # offset is that season's (summer time or not), not today's. Its date still counts as assumed.
    dated = [p.time for _, _, page in pages if page.date_source != "assumed" for p in page.posts if p.time]
    event_day = max(dated).date() if dated else None
    posts, slugs = [], set()
    for spec, loaded, first in pages:
        page, assumed = first, first.date_source == "assumed"
        if assumed and event_day is not None:
            try:
                page = read(spec, loaded, event_day)
            except Exception:  # noqa: BLE001, S110 - it was read once; keep that reading
                page = first
        where = spec["source"]
        outlet = spec.get("outlet") or page.outlet or (urlsplit(where).hostname if "://" in where else Path(where).stem)
        base = re.sub(r"[^a-z0-9]+", "-", outlet.lower()).strip("-") or "outlet"
        slug, n = base, 2
        while slug in slugs:
            slug, n = f"{base}-{n}", n + 1
        slugs.add(slug)
        count = len(page.posts)
        for position, post in enumerate(page.posts):
            number = count - position if page.order == "newest" else position + 1
            posts.append(AlignPost(id=f"{slug}-{number}", outlet=outlet, text=post.text, headline=post.headline,
                                   time=post.time, position=position, page_order=page.order,
                                   date_assumed=assumed, zone_assumed=page.zone_source == "assumed"))
    _skipped(errors, len(specs))
    return posts, errors


def _align_progress(show: bool):
    """A Rich progress bar fed by align's progress callback, or nothing."""
    import contextlib

    from rich.progress import Progress

    if not show:
        return contextlib.nullcontext(None)

    @contextlib.contextmanager
    def bar():
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("aligning", total=None)
            yield lambda done, total: progress.update(task, completed=done, total=total)

    return bar()


def _align_report(data: dict) -> None:
    """The alignment in plain words, within the terminal's width (80 columns at most 100): which
    posts were matched, who was first and by how much, and why a lead is uncertain."""
    import textwrap

    from livedesk.align.report import lead_text

    width = min(console.width, 100)
    posts, devs = data["posts"], data["developments"]
    by_id = {p["id"]: p for p in posts}
    shared = [d for d in devs if len(d["outlets"]) > 1]
    outlets = sorted({p["outlet"] for p in posts})
    untimed = {o for o in outlets if all(p["time_inferred"] or not p["time"] for p in posts if p["outlet"] == o)}

    def say(text: str, indent: str = "") -> None:
        console.print(textwrap.fill(text, width, initial_indent=indent, subsequent_indent=indent or "  "),
                      highlight=False, markup=False)

    say(f"{len(posts)} posts from {len(outlets)} outlets: {len(devs)} developments, "
        f"{len(shared)} reported by more than one outlet.")
    for name in sorted(untimed):
        timed = [o for o in outlets if o not in untimed]
        others = (", ".join(timed[:-1]) + " and " + timed[-1]) if len(timed) > 1 else (timed[0] if timed else "no other outlet")
        say(f"{name} gave no times: its times are estimated from the order of its page and from when {others} "
            "reported the same developments.")
    if shared:
        console.print()
        console.print("[bold]Matched across outlets[/bold] (first report first)", highlight=False)
    for d in sorted(shared, key=lambda d: d["first_time"] or ""):
        when = _short_time(d["first_time"]) if d["first_time"] else "no time"
        console.print()
        say(f"{when}  {d['label']}")
        members = sorted((by_id[pid] for pid in d["post_ids"] if pid in by_id), key=lambda p: p["time"] or "")
        for p in members:
            if not p["time"]:
                stamp = "no time"
            elif p["time_inferred"]:
                stamp = f"about {_short_time(p['time'])[-5:]} ± {round((p['time_uncertainty_s'] or 0) / 60)} min"
            else:
                stamp = _short_time(p["time"])[-5:]
            say(f"{p['outlet']}, {stamp}: {shorten(p['headline'] or d['label'], 200)}", "    ")
        contested, first = d.get("first_contested_by") or [], d["first_reported_by"]
        if contested:
            names = " and ".join(contested)
            plus_minus = round((d.get("lead_uncertainty_s") or 0) / 60)
            said = f"First by the stated times: {first}. " if first else "No outlet can be named first. "
            say(said + f"{names} may have been earlier: {'its' if len(contested) == 1 else 'their'} time is estimated"
                + (f" (± {plus_minus} min)." if plus_minus else "."), "    ")
        elif first:
            lead = lead_text(d)
            say(f"First: {first}" + (f", {lead}." if lead else "."), "    ")
    console.print()
    per_outlet = Table("outlet", "posts", "only here", "share of developments", box=box.SIMPLE_HEAD, pad_edge=False,
                       show_edge=False)
    for outlet in outlets:
        per_outlet.add_row(outlet, str(sum(p["outlet"] == outlet for p in posts)),
                           str(len(data["exclusives"].get(outlet, []))), f"{data['shares'].get(outlet, 0):.0%}")
    console.print(per_outlet, width=width)
    inferred = [p for p in posts if p["time_inferred"]]
    if inferred:
        say(f"{len(inferred)} untimed posts were placed by inferred times.")
    for point in data["key_point_suggestions"]:
        say(f"Key point? {point['text']} ({', '.join(point['outlets'])})")


def main() -> None:
    from pydantic import ValidationError

    from livedesk.newsroom import Forbidden, Invalid, NotFound

    try:
        result = app(standalone_mode=False)
    except typer.Abort:
        fail("aborted")
    except typer.TyperException as exc:  # usage errors: a missing or bad argument
        fail(exc.format_message() if hasattr(exc, "format_message") else str(exc))
    except ValidationError as exc:  # a bad LIVEDESK_* setting
        problem = exc.errors()[0]
        field = "_".join(map(str, problem["loc"])).upper()  # none when settings disagree with each other
        fail(f"{f'LIVEDESK_{field}' if field else 'LIVEDESK_* settings'}: {problem['msg']}")
    except (Invalid, NotFound, Forbidden, ValueError, LookupError, OSError) as exc:
        fail(str(exc) or exc.__class__.__name__)
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    sys.exit(result if isinstance(result, int) else 0)
