"""The desk (/desk): sign in, create events, compose, publish, correct, approve.

Every page is a server-rendered form that works without JavaScript; desk.js adds a live
preview, Ctrl+Enter, local and server autosave. Writes go through newsroom.publish.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import Field
from starlette.datastructures import FormData

from livedesk.markup import render_markdown
from livedesk.model import EventStatus, Post, PostStatus
from livedesk.newsroom import Forbidden, Invalid, NotFound, Stale, cards, follow, publish
from livedesk.store import events as event_store
from livedesk.store import posts as post_store
from livedesk.store.db import run_read
from livedesk.store.posts import BadCursor
from livedesk.web import auth
from livedesk.web.auth import DESK_ROLES, LOGIN_NONCE_COOKIE, Session, csrf_token, csrf_valid, current_session
from livedesk.web.compose import COMPOSE_FIELDS, check_lengths, form_from_post, local_to_utc, post_from_form
from livedesk.web.deps import engine_of, event_or_404, newsroom_of
from livedesk.web.render import render
from livedesk.web.schemas import Strict

router = APIRouter(prefix="/desk", include_in_schema=False)

NOTICES = {
    "published": "Published.",
    "pending": "Sent for approval: an editor will publish it.",
    "draft": "Draft saved.",
    "scheduled": "Scheduled.",
    "saved": "Saved.",
    "corrected": "Correction published.",
    "pinned": "Pinned.",
    "unpinned": "Unpinned.",
    "key": "Marked as a key event.",
    "unkey": "No longer a key event.",
    "deleted": "Deleted.",
    "approved": "Approved and published.",
    "keypoints": "Key points saved.",
    "ended": "Coverage ended.",
    "live": "Coverage is live again.",
    "created": "Event created.",
    "out": "You are signed out.",
    "revoked": "That session has ended.",
}


class DeskProblem(Exception):
    """An error shown as a desk page."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class SignInNeeded(Exception):
    """No valid session: go to the login page."""


def install(app: FastAPI) -> None:
    """Add the desk's routes and its HTML error pages to the app."""
    app.include_router(router)

    @app.exception_handler(DeskProblem)
    async def problem(request: Request, exc: DeskProblem):
        return desk_page(request, "desk/problem.html", status=exc.status, message=str(exc), desk=None)

    @app.exception_handler(SignInNeeded)
    async def sign_in(request: Request, _exc: SignInNeeded):
        back = request.url.path if request.method == "GET" else "/desk"
        return RedirectResponse(f"/desk/login?next={quote(back)}", status_code=303)


# ---- helpers --------------------------------------------------------------------------

def desk_page(request: Request, template: str, *, status: int = 200, **context) -> HTMLResponse:
    """A desk page: never cached, with the form's CSRF token and the notice of what was just done."""
    desk = context.get("desk")
    context.setdefault("csrf", csrf_token(request, desk.token) if desk else "")
    context.setdefault("presence_beat_ms", round(request.app.state.settings.presence_beat_s * 1000))
    notice = NOTICES.get(request.query_params.get("done", ""))
    body = render(request, template, notice=notice, **context)
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


def done(url: str, what: str, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"{url}?done={what}{anchor}", status_code=303)


async def read_form(request: Request) -> FormData:
    return await request.form()


def signed_in(request: Request) -> Session:
    """The desk's signed-in user; none sends the browser to the login page."""
    desk = current_session(request)
    if desk is None:
        raise SignInNeeded()
    if desk.actor.role not in DESK_ROLES:
        raise DeskProblem(403, f"A {desk.actor.role} account has no access to the desk.")
    return desk


def desk_form(request: Request, form: FormData = Depends(read_form), desk: Session = Depends(signed_in)) -> tuple[Session, FormData]:
    """A signed-in user's form POST, with its CSRF token checked."""
    if not csrf_valid(request, desk.token, _field(form, "csrf")):
        raise DeskProblem(403, "This form is missing its security token or the token is stale. Reload the page and try again.")
    return desk, form


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


REFUSALS = (Invalid, Forbidden, NotFound)


def status_of(refusal: Exception) -> int:
    """The HTTP status of a newsroom refusal."""
    return 403 if isinstance(refusal, Forbidden) else 404 if isinstance(refusal, NotFound) else 422


def newsroom_call(work):
    """Run a newsroom write; its refusals become desk pages."""
    try:
        return work()
    except REFUSALS as exc:
        raise DeskProblem(status_of(exc), str(exc)) from exc


def _compose_values(form: FormData) -> dict:
    values = {name: _field(form, name) for name in COMPOSE_FIELDS}
    values["body"] = str(form.get("body") or "")  # kept as typed: Markdown cares about spaces
    return values


# ---- sign in and out ------------------------------------------------------------------

@router.get("/login")
def login_page(request: Request, next: str = "/desk") -> HTMLResponse:
    nonce = auth.login_nonce(request)
    response = _login_form(request, nonce, next)
    auth.set_login_nonce(request, response, nonce)
    return response


def _login_form(request: Request, nonce: str, next_url: str, *, error: str = "", name: str = "", status: int = 200) -> HTMLResponse:
    return desk_page(
        request, "desk/login.html", status=status, desk=current_session(request), error=error, name=name,
        login_csrf=csrf_token(request, "login:" + nonce), next=_safe_next(next_url),
    )


def _safe_next(url: str) -> str:
    return url if re.fullmatch(r"/desk(/[\w\-/.]*)?", url or "") else "/desk"


@router.post("/login")
def login(request: Request, form: FormData = Depends(read_form)) -> Response:
    nonce = request.cookies.get(LOGIN_NONCE_COOKIE)
    if not nonce or not csrf_valid(request, "login:" + nonce, _field(form, "csrf")):
        raise DeskProblem(403, "The login form's security token is missing or stale. Reload the login page and try again.")
    name, password, token = _field(form, "name"), str(form.get("password") or ""), _field(form, "token")
    next_url = _field(form, "next")
    try:
        session = auth.log_in(request, name, password, token)
    except auth.LoginRefused as refused:
        response = _login_form(request, nonce, next_url, error=str(refused), name=name, status=refused.status)
        if refused.status == 429:
            response.headers["Retry-After"] = "60"
        return response
    response = RedirectResponse(_safe_next(next_url), status_code=303)
    auth.set_session_cookie(request, response, session)
    response.delete_cookie(LOGIN_NONCE_COOKIE, path="/desk")
    return response


@router.post("/logout")
def logout(request: Request, posted: tuple[Session, FormData] = Depends(desk_form)) -> Response:
    desk, _form = posted
    response = done("/desk/login", "out")
    auth.log_out(request, response, desk)
    return response


@router.get("/sessions")
def sessions(request: Request, desk: Session = Depends(signed_in)) -> HTMLResponse:
    """Where the signed-in user is signed in, each with a button that ends it."""
    settings = request.app.state.settings
    return desk_page(request, "desk/sessions.html", desk=desk, sessions=auth.list_sessions(request, desk),
                  idle_hours=f"{settings.session_idle_hours:g}", max_days=f"{settings.session_max_days:g}")


@router.post("/sessions/{session_id}/revoke")
def revoke_session(request: Request, session_id: int = PathParam(ge=1, le=2**31 - 1),
                   posted: tuple[Session, FormData] = Depends(desk_form)) -> Response:
    desk, _form = posted
    if not auth.revoke_session(request, desk, session_id):
        raise DeskProblem(404, "You have no such session: it has ended already.")
    if session_id == desk.session_id:  # this browser's own: signed out
        response = done("/desk/login", "out")
        response.delete_cookie(auth.SESSION_COOKIE, path="/")
        return response
    return done("/desk/sessions", "revoked")


# ---- events ---------------------------------------------------------------------------

@router.get("")
def home(request: Request, desk: Session = Depends(signed_in)) -> HTMLResponse:
    def read(conn):
        return [r.to_json(event_store.count_published(conn, r.id)) for r in event_store.list_events(conn)]

    return desk_page(request, "desk/home.html", desk=desk, events=run_read(engine_of(request), read), form={}, error="")


@router.post("/events")
def create_event(request: Request, posted: tuple[Session, FormData] = Depends(desk_form)) -> Response:
    desk, form = posted
    data = {"slug": _field(form, "slug").lower(), "title": _field(form, "title"), "standfirst": _field(form, "standfirst")}
    try:
        if len(data["title"]) > 300 or len(data["standfirst"]) > 2000:
            raise Invalid("the title may have 300 characters and the standfirst 2000")
        event = publish.create_event(newsroom_of(request), data, desk.actor)
    except REFUSALS as exc:
        events = run_read(engine_of(request), lambda conn: [r.to_json() for r in event_store.list_events(conn)])
        return desk_page(request, "desk/home.html", status=status_of(exc), desk=desk, events=events, form=data, error=str(exc))
    return done(f"/desk/e/{event.slug}", "created")


@router.post("/e/{slug}/status")
def set_status(request: Request, slug: str, posted: tuple[Session, FormData] = Depends(desk_form)) -> Response:
    desk, form = posted
    status = EventStatus.ended if _field(form, "status") == EventStatus.ended else EventStatus.live
    data = {"status": status} if status == EventStatus.ended else {"status": EventStatus.live, "coverage_end": None}
    newsroom_call(lambda: publish.update_event(newsroom_of(request), slug, data, desk.actor))
    return done(f"/desk/e/{slug}", status)


@router.post("/e/{slug}/key-points")
def key_points(request: Request, slug: str, posted: tuple[Session, FormData] = Depends(desk_form)) -> Response:
    """Save the key points; the pressed button may also move or remove one."""
    desk, form = posted
    texts = [str(t).strip() for t in form.getlist("kp_text")]
    links = [str(p).strip() or None for p in form.getlist("kp_post")]
    points = [{"text": t, "post_id": p} for t, p in zip(texts, links + [None] * len(texts))]
    points = move_point(points, _field(form, "op"))
    if _field(form, "kp_new"):
        points.append({"text": _field(form, "kp_new"), "post_id": None})
    points = [p for p in points if p["text"]]
    if len(points) > 30 or any(len(p["text"]) > 500 for p in points):
        raise DeskProblem(422, "An event has at most 30 key points of at most 500 characters each.")
    newsroom_call(lambda: publish.update_event(
        newsroom_of(request), slug, {"key_points": points}, desk.actor
    ))
    return done(f"/desk/e/{slug}", "keypoints", "#key-points")


def move_point(points: list[dict], op: str) -> list[dict]:
    """Apply 'up:N', 'down:N' or 'remove:N' to the list of key points."""
    verb, _, number = op.partition(":")
    if not number.isdigit() or int(number) >= len(points):
        return points
    i = int(number)
    points = list(points)
    if verb == "remove":
        del points[i]
    elif verb == "up" and i > 0:
        points[i - 1], points[i] = points[i], points[i - 1]
    elif verb == "down" and i < len(points) - 1:
        points[i + 1], points[i] = points[i], points[i + 1]
    return points


# ---- the event's desk: compose and manage posts --------------------------------------

@router.get("/e/{slug}")
def event_desk(request: Request, slug: str, draft: str | None = None, q: str | None = None, before: str | None = None,
               desk: Session = Depends(signed_in)) -> Response:
    form: dict = {}
    if draft:
        post = _post_for(request, slug, draft, desk)
        if post["status"] != PostStatus.draft:
            return RedirectResponse(f"/desk/e/{slug}/posts/{draft}/edit", status_code=303)
        form = form_from_post(post)
        form["draft_id"] = post["id"]
        return _event_page(request, slug, desk, form, preview=post["body_html"])
    search = {"q": (q or "").strip()[:200] or None, "before": (before or "").strip()[:200] or None}
    return _event_page(request, slug, desk, form, search=search)


DESK_PAGE = 50


def _event_page(request: Request, slug: str, desk: Session, form: dict, *, error: str = "", preview: str = "",
                status: int = 200, search: dict | None = None) -> HTMLResponse:
    """The event's desk; its published posts a page at a time (`before`), or those matching `q`."""
    search = search or {"q": None, "before": None}

    def read(conn):
        row = event_or_404(conn, slug)
        lists, more = {}, None
        for name in (PostStatus.published, PostStatus.pending, PostStatus.draft, PostStatus.scheduled):
            everyone = desk.is_editor or name == PostStatus.published
            paged = search if name == PostStatus.published else {}
            rows, cursor = post_store.list_posts(conn, row.id, order="newest", limit=DESK_PAGE, statuses=(name,),
                                                 created_by=None if everyone else desk.actor.id, **paged)
            lists[name] = [r.to_json() for r in rows]
            if name == PostStatus.published:
                more = cursor
        return row.to_json(event_store.count_published(conn, row.id)), lists, more

    try:
        event, lists, more = newsroom_call(lambda: run_read(engine_of(request), read))
    except BadCursor as exc:
        raise DeskProblem(400, str(exc)) from exc
    return desk_page(
        request, "desk/event.html", status=status, desk=desk, event=event, lists=lists, form=form,
        error=error, preview=preview, sources=follow.list_sources(newsroom_of(request), slug), search=search, more=more,
    )


def _post_for(request: Request, slug: str, post_id: str, desk: Session) -> dict:
    """A post with its history, if this desk user may open it."""
    def read(conn):
        event = event_or_404(conn, slug)
        row = post_store.get_post(conn, event.id, post_id)
        if row is None or row.status == PostStatus.deleted:
            raise DeskProblem(404, f"There is no post {post_id!r} in this event.")
        if not desk.is_editor and row.created_by != desk.actor.id:
            raise DeskProblem(403, "A contributor may open only their own posts.")
        return row.to_json(post_store.versions(conn, row.id))

    return newsroom_call(lambda: run_read(engine_of(request), read))


@router.post("/e/{slug}/posts")
def compose(request: Request, slug: str, posted: tuple[Session, FormData] = Depends(desk_form)) -> Response:
    """The compose form: publish, save a draft, schedule, or (without JavaScript) preview."""
    desk, form = posted
    values = _compose_values(form)
    action = _field(form, "action") or "publish"
    started_from = _version_field(form) if values.get("draft_id") else None
    values["version"] = str(started_from or "")
    try:
        data = _with_card(request, desk, post_from_form(values), values)
        if action == "preview":
            preview = render_markdown(data["body"])
            return _event_page(request, slug, desk, values, preview=preview)
        data.update(_status_for(action, values))
        post = _save(request, slug, desk, values.get("draft_id"), data, started_from)
    except Stale as exc:  # another editor saved the shared draft since this form last did
        theirs = exc.current.to_json(exc.history)
        values["version"] = str(theirs["version"])  # sending again replaces theirs, knowingly
        said = (theirs.get("body") or "").strip()
        error = (f"Another editor saved this draft meanwhile (now version {theirs['version']}): “{said[:300]}”. "
                 "Your text is kept below; send it again to replace theirs.")
        return _event_page(request, slug, desk, values, error=error, status=409)
    except REFUSALS as exc:
        return _event_page(request, slug, desk, values, error=str(exc), status=status_of(exc))
    if post.status == PostStatus.draft:
        return RedirectResponse(f"/desk/e/{slug}?draft={post.id}&done=draft#compose", status_code=303)
    return done(f"/desk/e/{slug}", post.status, f"#post-{post.id}")


def _with_card(request: Request, desk: Session, data: dict, values: dict) -> dict:
    """The post data with the card of the form's social post or video link, if it has one."""
    if values.get("embed_url"):
        data["media"].append(cards.embed_card(newsroom_of(request), values["embed_url"], desk.actor))
    return data


def _save(request: Request, slug: str, desk: Session, draft_id: str | None, data: dict, version: int | None) -> Post:
    room = newsroom_of(request)
    if draft_id:  # a shared draft: saved only over the version this form holds (`Stale` otherwise)
        return publish.edit_post(room, slug, draft_id, data, desk.actor, version=version)
    return publish.create_post(room, slug, data, desk.actor)


def _status_for(action: str, values: dict) -> dict:
    if action == "draft":
        return {"status": PostStatus.draft}
    if action == "schedule":
        when = local_to_utc(values.get("scheduled_at", ""), values.get("tz", ""))
        if when <= datetime.now(UTC):
            raise Invalid("the scheduled time has passed; pick a time in the future")
        return {"status": PostStatus.published, "published_at": when}
    return {"status": PostStatus.published, "published_at": datetime.now(UTC)}


@router.get("/e/{slug}/posts/{post_id}/edit")
def edit_page(request: Request, slug: str, post_id: str, desk: Session = Depends(signed_in)) -> HTMLResponse:
    post = _post_for(request, slug, post_id, desk)
    form = form_from_post(post)
    return desk_page(request, "desk/edit.html", desk=desk, slug=slug, post=post, form=form, error="", preview=post["body_html"])


@router.post("/e/{slug}/posts/{post_id}/edit")
def edit(request: Request, slug: str, post_id: str, posted: tuple[Session, FormData] = Depends(desk_form)) -> Response:
    """Save an edit made from the version the form was opened at; if another editor saved
    meanwhile, show both versions side by side and keep this editor's text in the form."""
    desk, form = posted
    values = _compose_values(form)
    correction = _field(form, "correction") or None
    started_from = _version_field(form)
    try:
        check_lengths({"correction": correction})
        data = _with_card(request, desk, post_from_form(values), values)
        post = publish.edit_post(
            newsroom_of(request), slug, post_id, data, desk.actor, correction=correction, version=started_from
        )
    except Stale as exc:
        values["correction"] = correction or ""
        theirs = exc.current.to_json(exc.history)
        return desk_page(request, "desk/edit.html", status=409, desk=desk, slug=slug, post=theirs, form=values,
                         error="", conflict=theirs, started_from=started_from,
                         preview=render_markdown(values["body"]))
    except REFUSALS as exc:
        post = _post_for(request, slug, post_id, desk)
        values["correction"] = correction or ""
        values["version"] = str(started_from or "")
        return desk_page(request, "desk/edit.html", status=status_of(exc), desk=desk, slug=slug, post=post, form=values, error=str(exc))
    return done(f"/desk/e/{slug}", "corrected" if correction else "saved", f"#post-{post.id}")


def _version_field(form: FormData) -> int | None:
    """The version an edit form was opened at (none from an old form: the edit then wins)."""
    text = _field(form, "version")
    if not text:
        return None
    if not text.isdigit() or len(text) > 9:
        raise DeskProblem(400, "The form's version field is not a number. Reload the page and try again.")
    return int(text)


ACTIONS = {
    "pin": (lambda r, s, p, a: publish.set_pinned(r, s, p, a, True), "pinned"),
    "unpin": (lambda r, s, p, a: publish.set_pinned(r, s, p, a, False), "unpinned"),
    "key": (lambda r, s, p, a: publish.set_key_event(r, s, p, a, True), "key"),
    "unkey": (lambda r, s, p, a: publish.set_key_event(r, s, p, a, False), "unkey"),
    "approve": (publish.approve_post, "approved"),
    "delete": (publish.delete_post, "deleted"),
}


@router.post("/e/{slug}/posts/{post_id}/{action}")
def post_action(request: Request, slug: str, post_id: str, action: str, posted: tuple[Session, FormData] = Depends(desk_form)) -> Response:
    desk, _form = posted
    if action not in ACTIONS:
        raise DeskProblem(404, f"There is no post action {action!r}.")
    work, notice = ACTIONS[action]
    newsroom_call(lambda: work(newsroom_of(request), slug, post_id, desk.actor))
    anchor = "" if action == "delete" else f"#post-{post_id}"
    return done(f"/desk/e/{slug}", notice, anchor)


class PreviewIn(Strict):
    body: str = Field("", max_length=200_000)


@router.post("/preview")
def preview(request: Request, body: PreviewIn, desk: Session = Depends(signed_in)) -> JSONResponse:
    """Markdown rendered through the same sanitiser as publishing (needs the X-CSRF-Token header)."""
    if not csrf_valid(request, desk.token, request.headers.get("x-csrf-token")):
        raise DeskProblem(403, "a preview needs a valid X-CSRF-Token header")
    return JSONResponse({"html": render_markdown(body.body)}, headers={"Cache-Control": "no-store"})
