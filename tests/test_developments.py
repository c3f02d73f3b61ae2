"""Developments live: other outlets' pages attached to an event are aligned, stored and pushed.

A real server; the seed pages are read from ../shared at test time and pasted as sources.
The fictional pages below are this project's own writing.
"""

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from lxml import html

from conftest import SSEReader, cli_here, soon_after, unique

SHARED = Path(__file__).resolve().parents[2] / "shared"
GOLD = SHARED / "gold" / "seeds.json"

GAZETTE = """Orrin Falls bridge reopens | Riverside Gazette

Orrin Falls bridge reopens

The old stone bridge over the Tessel carries traffic again after two years of repairs

11:40 CET
Mira Holt
Riverside Gazette

Mayor Tobias Renn cut the ribbon on the Tessel bridge in front of about three hundred people. "This bridge has waited long enough for us, and we for it," Renn said.

11:05 CET
Mira Holt
Riverside Gazette

The first bus across the bridge will be the number 14 to the railway station, the transport office said.

10:20 CET
Mira Holt
Riverside Gazette

A brass band from the Orrin Falls music school is rehearsing on the east bank ahead of the ceremony.
"""

WIRE = """Tessel bridge back in service | Valley Wire

Tessel bridge back in service

Two years of repair work end in Orrin Falls

11:45 CET
Jon Aske
Valley Wire

Orrin Falls mayor Tobias Renn opened the repaired Tessel bridge before a crowd of roughly 300. "The bridge waited long enough for us and we waited for it," he told the crowd.

10:50 CET
Jon Aske
Valley Wire

Repairs to the Tessel bridge cost 4.2 million crowns, twice the first estimate, according to the council's accounts.
"""

WIRE_NEWS = """12:10 CET
Jon Aske
Valley Wire

The number 14 bus to the railway station became the first bus to cross the reopened bridge, the transport office said.

"""


def developments(client: httpx.Client, slug: str) -> dict:
    response = client.get(f"/api/events/{slug}/developments")
    assert response.status_code == 200, response.text
    return response.json()


def dev_of(data: dict) -> dict[str, dict]:
    return {pid: d for d in data["developments"] for pid in d["post_ids"]}


def posts_of(client: httpx.Client, slug: str) -> list[dict]:
    response = client.get(f"/api/events/{slug}/posts", params={"limit": 100})
    assert response.status_code == 200, response.text
    return response.json()["posts"]


def paste(client: httpx.Client, slug: str, text: str, **extra) -> dict:
    response = client.post(f"/api/events/{slug}/sources", json={"text": text, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def fold(text: str) -> str:
    return " ".join(text.replace("“", '"').replace("”", '"').replace("’", "'").split()).lower()


# ---- the seeds -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def seeds(editor) -> tuple[str, dict[str, str]]:
    """An event with both seed pages pasted; gold ids mapped to stored post ids."""
    if not GOLD.exists():
        pytest.skip("seed gold not present")
    gold = json.loads(GOLD.read_text(encoding="utf-8"))
    slug = unique("summit")
    assert editor.post("/api/events", json={"slug": slug, "title": "Summit in Vladivostok"}).status_code == 201
    for key in ("tass", "cnn"):
        page = gold["pages"][key]
        paste(editor, slug, (SHARED / page["file"]).read_text(encoding="utf-8"), outlet=page["outlet"], timezone=page["timezone"])
    stored = posts_of(editor, slug)
    by_time = {p["published_at"]: p["id"] for p in stored if p["outlet"]["name"] == "TASS"}
    by_headline = {fold(p["headline"] or ""): p["id"] for p in stored if p["outlet"]["name"] == "CNN"}
    ids = {}
    for p in gold["pages"]["tass"]["posts"]:
        when = datetime.fromisoformat(p["time"]).astimezone(UTC).isoformat().replace("+00:00", "Z")
        ids[p["id"]] = by_time[when]
    for p in gold["pages"]["cnn"]["posts"]:
        ids[p["id"]] = by_headline[fold(p["headline"])]
    return slug, ids


def test_seed_gold_same_pairs_share_a_development(editor, seeds):
    slug, ids = seeds
    gold = json.loads(GOLD.read_text(encoding="utf-8"))["alignment"]
    found = dev_of(developments(editor, slug))
    for a, b in gold["same"]:
        assert found[ids[a]]["id"] == found[ids[b]]["id"], (a, b)


def test_seed_exclusives_share_no_development_with_the_other_outlet(editor, seeds):
    slug, ids = seeds
    gold = json.loads(GOLD.read_text(encoding="utf-8"))["alignment"]
    data = developments(editor, slug)
    found = dev_of(data)
    outlet = {p["id"]: p["outlet"] for d in data["developments"] for p in d["posts"]}
    for gold_id in gold["exclusive"]:
        dev = found[ids[gold_id]]
        assert dev["outlets"] == [outlet[ids[gold_id]]], gold_id
        assert dev["exclusive"] and dev["id"] in data["exclusives"][outlet[ids[gold_id]]]


def test_developments_api_gives_first_reporter_quotes_and_etag(editor, seeds):
    slug, ids = seeds
    response = editor.get(f"/api/events/{slug}/developments")
    data = response.json()
    shared = [d for d in data["developments"] if len(d["outlets"]) == 2]
    assert shared and all(d["label"] and d["posts"] for d in shared)
    # TASS gives times, CNN none: the first reporter of a shared development is judged on real times
    assert {d["first_reported_by"] for d in shared} == {"TASS"}
    # CNN's inferred times are read off TASS's: within their uncertainty, so no lead is claimed
    assert all(d["lead_seconds"] is None and d["lead_uncertainty_s"] >= 900 for d in shared)
    assert any(d["first_contested_by"] == ["CNN"] for d in shared)
    pleased = dev_of(data)[ids["cnn-01"]]
    assert {q["outlet"] for q in pleased["quotes"]} == {"TASS", "CNN"}
    again = editor.get(f"/api/events/{slug}/developments", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304


def test_compare_api_counts_outlets_and_orders_the_timeline(editor, seeds):
    slug, _ = seeds
    data = editor.get(f"/api/events/{slug}/compare").json()
    outlets = {o["outlet"]: o for o in data["outlets"]}
    assert set(outlets) == {"TASS", "CNN"}
    assert sum(o["post_count"] for o in outlets.values()) == len(data["timeline"])
    assert all(0 < o["share"] <= 1 and o["exclusives"] for o in outlets.values())
    times = [item["time"] for item in data["timeline"]]
    assert times == sorted(times)
    untimed = [item for item in data["timeline"] if item["outlet"] == "CNN"]
    assert untimed and all(item["time_inferred"] and item["time_label"].startswith("about ") for item in untimed)
    assert data["key_point_suggestions"] and all(len(s["outlets"]) == 2 for s in data["key_point_suggestions"])


def test_timeline_page_shows_inferred_times_with_their_uncertainty(editor, seeds):
    slug, _ = seeds
    page = editor.get(f"/e/{slug}/timeline")
    assert page.status_code == 200
    tree = html.fromstring(page.text)
    abouts = [e.text_content() for e in tree.xpath("//*[@class='cmp-about']")]
    assert abouts and all(re.fullmatch(r"about \d\d:\d\d UTC ± \d+(\.\d)? (min|h)", a) for a in abouts), abouts[:3]
    badges = {e.text_content().strip() for e in tree.xpath("//ol[@class='cmp-timeline']//span[@class='cmp-badge']")}
    assert badges == {"TASS", "CNN"}
    assert tree.xpath("//ol[@class='cmp-timeline']//a[contains(@href, '/compare#dev-')]")


def test_compare_page_draws_a_lane_per_outlet_and_joins_developments(editor, seeds):
    slug, ids = seeds
    page = editor.get(f"/e/{slug}/compare")
    assert page.status_code == 200
    tree = html.fromstring(page.text)
    [svg] = tree.xpath("//svg[contains(@class, 'cmp-svg')]")
    assert svg.get("viewbox") or svg.get("viewBox")
    lanes = [t.text_content() for t in svg.xpath(".//*[@class='cmp-lane-name']")]
    assert sorted(name.split(" · ")[0] for name in lanes) == ["CNN", "TASS"]
    joins = svg.xpath(".//g[@class='cmp-joins']/line")
    data = developments(editor, slug)
    pleased = dev_of(data)[ids["cnn-01"]]["id"]
    assert any(j.get("data-development") == pleased for j in joins)
    marks = svg.xpath(".//a[contains(@class, 'cmp-mark')]")
    assert len(marks) == sum(len(d["post_ids"]) for d in data["developments"])
    assert svg.xpath(".//a[contains(@class, 'cmp-exclusive')]") and svg.xpath(".//a[contains(@class, 'cmp-first')]")
    guessed = svg.xpath(".//a[contains(@class, 'cmp-guess')]")
    assert guessed and all(m.xpath("./g/line") for m in guessed)  # the ± bar of an inferred time
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", html.tostring(svg).decode())  # nothing fetched
    # quote wordings side by side
    [card] = tree.xpath(f"//article[@id='dev-{pleased}']")
    assert len(card.xpath(".//div[@class='cmp-quote-col']")) == 2
    first_line = " ".join(card.xpath(".//p[@class='cmp-first-line']")[0].text_content().split())
    assert first_line.startswith("TASS reported it first, ") and re.search(r"± \d+ min", first_line), first_line


def test_reader_page_shows_in_other_media_links(editor, seeds):
    slug, ids = seeds
    page = editor.get(f"/e/{slug}")
    tree = html.fromstring(page.text)
    [post] = tree.xpath(f"//li[@id='post-{ids['cnn-04']}']")
    links = post.xpath(".//section[@class='other-media']//a")
    assert [a.get("href") for a in links] == [f"/e/{slug}/p/{ids['tass-105515']}"]
    exclusive = tree.xpath(f"//li[@id='post-{ids['cnn-02']}']")[0]
    assert not exclusive.xpath(".//section[@class='other-media']")


# ---- live: a new post joins a development and is pushed to a reader of a real server -----

def test_new_post_joins_a_development_and_the_change_is_pushed(live_server, live_editor, event):
    paste(live_editor, event, GAZETTE, timezone="Europe/Oslo")
    paste(live_editor, event, WIRE, timezone="Europe/Oslo")
    data = developments(live_editor, event)
    ribbon = [d for d in data["developments"] if len(d["outlets"]) == 2]
    assert len(ribbon) == 1 and sorted(ribbon[0]["outlets"]) == ["Riverside Gazette", "Valley Wire"]
    bus = next(p["id"] for p in posts_of(live_editor, event) if "number 14" in p["body"])
    assert dev_of(data)[bus]["outlets"] == ["Riverside Gazette"]

    stream = SSEReader(f"{live_server.url}/api/events/{event}/stream")
    try:
        head, _, rest = WIRE.partition("11:45 CET")
        paste(live_editor, event, head + WIRE_NEWS + "11:45 CET" + rest, timezone="Europe/Oslo")
        new = next(p["id"] for p in posts_of(live_editor, event) if "became the first bus" in p["body"])
        pushed = stream.wait_for(lambda e: e.get("event") == "developments.updated"
                                 and any(new in d["post_ids"] for d in e["data"]["developments"]))
        [dev] = [d for d in pushed[0]["data"]["developments"] if new in d["post_ids"]]
        assert bus in dev["post_ids"] and sorted(dev["outlets"]) == ["Riverside Gazette", "Valley Wire"]
    finally:
        stream.close()
    after = dev_of(developments(live_editor, event))
    assert after[new]["id"] == after[bus]["id"]


def test_own_post_joins_a_development_and_edits_and_removal_are_pushed(live_server, live_editor, event):
    paste(live_editor, event, GAZETTE, timezone="Europe/Oslo")
    ribbon_post = next(p for p in posts_of(live_editor, event) if "cut the ribbon" in p["body"])
    ribbon = ribbon_post["id"]
    bus = next(p["id"] for p in posts_of(live_editor, event) if "number 14" in p["body"])

    def pushed_with(stream: SSEReader, own: str, mate: str) -> dict:
        """The first pushed development holding both posts (nothing is read before it comes)."""
        events = stream.wait_for(lambda e: e.get("event") == "developments.updated"
                                 and any({own, mate} <= set(d["post_ids"]) for d in e["data"]["developments"]))
        return next(d for d in events[0]["data"]["developments"] if own in d["post_ids"])

    stream = SSEReader(f"{live_server.url}/api/events/{event}/stream")
    try:
        response = live_editor.post(f"/api/events/{event}/posts", json={
            "headline": "Tessel bridge open again",
            "body": "Mayor Tobias Renn reopened the Tessel bridge in Orrin Falls before some 300 people. "
                    "\"This bridge has waited long enough for us, and we for it,\" he said.",
            "published_at": soon_after(ribbon_post["published_at"]),
        })
        assert response.status_code == 201
        own = response.json()["id"]
        site = response.json()["outlet"]["name"]
        assert sorted(pushed_with(stream, own, ribbon)["outlets"]) == sorted(["Riverside Gazette", site])

        edited = live_editor.patch(f"/api/events/{event}/posts/{own}", json={
            "headline": "First bus over the bridge",
            "body": "The number 14 bus to the railway station will be the first across the reopened Tessel "
                    "bridge, the transport office said.",
        })
        assert edited.status_code == 200, edited.text
        assert bus in pushed_with(stream, own, bus)["post_ids"]

        assert live_editor.delete(f"/api/events/{event}/posts/{own}").status_code == 204
        gone = stream.wait_for(lambda e: e.get("event") == "developments.updated"
                               and any(d["post_ids"] == [bus] for d in e["data"]["developments"]))
        assert not any(own in d["post_ids"] for d in gone[0]["data"]["developments"])
    finally:
        stream.close()
    assert own not in dev_of(developments(live_editor, event))


# ---- key points ----------------------------------------------------------------------------

def test_accepting_a_suggestion_adds_it_to_the_key_points(server, editor, event):
    paste(editor, event, GAZETTE, timezone="Europe/Oslo")
    paste(editor, event, WIRE, timezone="Europe/Oslo")
    [suggestion] = developments(editor, event)["key_point_suggestions"]
    response = editor.post(f"/api/events/{event}/keypoints/accept", json={"development_id": suggestion["development_id"]})
    assert response.status_code == 200, response.text
    assert [p["text"] for p in response.json()["key_points"]] == [suggestion["text"]]
    twice = editor.post(f"/api/events/{event}/keypoints/accept", json={"development_id": suggestion["development_id"]})
    assert [p["text"] for p in twice.json()["key_points"]] == [suggestion["text"]]  # not added twice
    by_text = editor.post(f"/api/events/{event}/keypoints/accept", json={"text": "  Buses cross   from Friday "})
    assert [p["text"] for p in by_text.json()["key_points"]][-1] == "Buses cross from Friday"
    assert editor.get(f"/api/events/{event}").json()["key_points"][0]["text"] == suggestion["text"]


def test_editor_adds_a_suggestion_from_the_compare_page(server, editor, event):
    paste(editor, event, GAZETTE, timezone="Europe/Oslo")
    paste(editor, event, WIRE, timezone="Europe/Oslo")
    with server.client(cookies={"livedesk_session": server.token("editor")}) as desk:
        page = html.fromstring(desk.get(f"/e/{event}/compare").text)
        [form] = page.xpath("//section[@id='suggestions']//form")
        fields = {i.get("name"): i.get("value") for i in form.xpath(".//input")}
        answer = desk.post(form.get("action"), data=fields)
        assert answer.status_code == 303
        refused = desk.post(form.get("action"), data={**fields, "csrf": "0" * 64})
        assert refused.status_code == 403
        after = html.fromstring(desk.get(f"/e/{event}/compare").text)
        assert after.xpath("//section[@id='suggestions']//*[contains(@class, 'cmp-accepted')]")
    assert editor.get(f"/api/events/{event}").json()["key_points"]
    anonymous = html.fromstring(server.get(f"/e/{event}/compare").text)
    assert not anonymous.xpath("//section[@id='suggestions']//form")


def test_bad_key_point_requests_are_refused_clearly(server, editor, event):
    paste(editor, event, GAZETTE, timezone="Europe/Oslo")
    url = f"/api/events/{event}/keypoints/accept"
    assert editor.post(url, json={}).status_code == 422
    unknown = editor.post(url, json={"development_id": "d-nothing"})
    assert unknown.status_code == 422 and "d-nothing" in unknown.json()["error"]
    assert editor.post("/api/events/no-such-event/keypoints/accept", json={"text": "x"}).status_code == 404
    with server.client() as anonymous:
        assert anonymous.post(url, json={"text": "x"}).status_code == 401
    with server.client(server.token("contributor")) as contributor:
        assert contributor.post(url, json={"text": "x"}).status_code == 403
    assert editor.get(f"/api/events/{event}").json()["key_points"] == []
    assert editor.get("/api/events/no-such-event/developments").status_code == 404
    assert editor.get("/e/no-such-event/compare").status_code == 404


@pytest.mark.slow  # CLI processes
def test_align_event_cli_recomputes_and_stores(server, editor, seeds):
    slug, ids = seeds
    out = cli_here("align-event", slug, "--json", env=server.env)
    data = json.loads(out.stdout)
    found = {pid: d["id"] for d in data["developments"] for pid in d["post_ids"]}
    assert found[ids["cnn-08"]] == found[ids["tass-091656"]]
    assert {d["id"] for d in developments(editor, slug)["developments"]} == set(found.values())
    missing = cli_here("align-event", "no-such-event", env=server.env, check=False)
    assert missing.returncode == 2 and missing.stderr.strip() == "livedesk: no event 'no-such-event'"


def test_cli_ingest_aligns_as_the_server_does(server, editor, tmp_path):
    """The same two pages pasted over HTTP and ingested on the command line: the command stores the
    alignment itself (before anything reads it), and it groups the posts as the server did."""
    from livedesk.store import events as event_store
    from livedesk.store.db import make_engine, run_read
    from livedesk.store.developments import stored

    pages = {"gazette.txt": GAZETTE, "wire.txt": WIRE}
    over_http, on_cli = unique("http"), unique("cli")
    assert editor.post("/api/events", json={"slug": over_http, "title": "Bridge"}).status_code == 201
    for text in pages.values():
        paste(editor, over_http, text, timezone="Europe/Oslo")
    cli_here("event", "create", on_cli, "--title", "Bridge", env=server.env)
    for name, text in pages.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    cli_here("ingest", on_cli, *(str(tmp_path / name) for name in pages), "--tz", "Europe/Oslo", env=server.env)

    engine = make_engine(server.env["LIVEDESK_DATABASE_URL"])
    try:
        left = run_read(engine, lambda conn: stored(conn, event_store.require_event(conn, on_cli).id))
    finally:
        engine.dispose()
    assert left is not None and len(left.posts) == len(posts_of(editor, on_cli)) > 0

    def groups(slug: str) -> set[frozenset[str]]:
        text = {p["id"]: fold(p["body"]) for p in posts_of(editor, slug)}
        return {frozenset(text[pid] for pid in d["post_ids"]) for d in developments(editor, slug)["developments"]}

    assert groups(on_cli) == groups(over_http)
    assert any(len(group) > 1 for group in groups(on_cli))


# ---- in one process: the live path against the store -----------------------------------------

def test_live_developments_stay_a_partition_of_the_posts(tmp_path):
    from livedesk.broker.memory import MemoryBroker
    from livedesk.config import Settings
    from livedesk.model import StoredAlignment
    from livedesk.newsroom import follow, publish
    from livedesk.newsroom.roles import Actor
    from livedesk.newsroom.room import Newsroom
    from livedesk.store.db import make_engine, run_read, upgrade
    from livedesk.store.developments import stored

    room = Newsroom(Settings(), make_engine(f"sqlite:///{tmp_path / 'live.db'}"), MemoryBroker())
    actor = Actor(None, "desk", "admin")
    upgrade(room.engine)
    slug = unique("live")
    publish.create_event(room, {"slug": slug, "title": "Bridge"}, actor)
    try:
        follow.add_source(room, slug, {"text": GAZETTE, "timezone": "Europe/Oslo"}, actor)
        head, _, rest = WIRE.partition("11:45 CET")
        follow.add_source(room, slug, {"text": head + WIRE_NEWS + "11:45 CET" + rest, "timezone": "Europe/Oslo"}, actor)
        own = publish.create_post(room, slug, {"headline": "Buses again", "body": "Buses cross the Tessel."}, actor)
        event_id = room.developments.current(slug)[0].id

        def check() -> StoredAlignment:
            data = run_read(room.engine, lambda conn: stored(conn, event_id))
            assert data is not None
            ids = [pid for d in data.developments for pid in d.post_ids]
            assert sorted(ids) == sorted(p.id for p in data.posts) and len(ids) == len(set(ids))
            return data

        data = check()
        assert own.id in [p.id for p in data.posts] and len(data.posts) == 7
        publish.delete_post(room, slug, own.id, actor)
        room.developments.current(slug)
        assert own.id not in [p.id for p in check().posts]
    finally:
        room.close()
