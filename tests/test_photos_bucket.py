"""Photos kept in an S3-compatible bucket: a real S3 server process on loopback (moto's), two
nodes with no shared disk, renditions served from the site's own addresses, and a bucket that
fails part-way leaving nothing behind and a clear 503."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from conftest import App, Server, free_port, http_server, server_env, unique, wait_until, write_to
from livedesk.store.tables import media_blobs
from test_photos import jpeg, upload

pytestmark = pytest.mark.nodes


@pytest.fixture(scope="module")
def s3() -> Iterator[str]:
    """moto's S3 server, a process of its own answering S3's HTTP API on a loopback port."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(url), timeout=60, message="the S3 server answers")
        yield url
    finally:
        process.terminate()
        process.wait(15)


def _answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=1)
        return True
    except httpx.HTTPError:
        return False


def s3_client(url: str):
    import boto3

    return boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="desk",
                        aws_secret_access_key="desk-secret")


def new_bucket(url: str) -> str:
    name = unique("photos")
    s3_client(url).create_bucket(Bucket=name)
    return name


def bucket_env(url: str, bucket: str) -> dict:
    return {"LIVEDESK_MEDIA_S3_URL": url, "LIVEDESK_MEDIA_S3_BUCKET": bucket, "LIVEDESK_MEDIA_S3_PREFIX": "renditions/",
            "LIVEDESK_MEDIA_S3_ACCESS_KEY": "desk", "LIVEDESK_MEDIA_S3_SECRET_KEY": "desk-secret"}


def keys(url: str, bucket: str) -> list[str]:
    listed = s3_client(url).list_objects_v2(Bucket=bucket)
    return sorted(item["Key"] for item in listed.get("Contents", []))


def rows_of(database: str, upload_id: str) -> int:
    return write_to(database, lambda conn: conn.execute(
        select(func.count()).select_from(media_blobs).where(media_blobs.c.upload_id == upload_id)).scalar_one())


@pytest.mark.parametrize("mode", ["database", "bucket"])
def test_a_photo_uploaded_on_one_node_is_served_and_shown_by_another(tmp_path: Path, s3: str, mode: str):
    bucket = new_bucket(s3) if mode == "bucket" else ""
    photo = jpeg(2000, 1200 if bucket else 1180)  # a file of its own: the database may be shared (PostgreSQL)
    env = server_env(tmp_path, LIVEDESK_POLL_SOURCES="false", **(bucket_env(s3, bucket) if bucket else {}))
    first = App(env).start()
    second = Server({**env, "LIVEDESK_TEST_LOG": str(tmp_path / "second.log")}).start()
    try:
        slug = unique("quay")
        with first.client(first.token("editor")) as editor:
            assert editor.post("/api/events", json={"slug": slug, "title": "Quay storm"}).status_code == 201
            answer = upload(editor, photo)
            assert answer.status_code == 201, answer.text
            item = answer.json()
            post = editor.post(f"/api/events/{slug}/posts", json={"body": "Waves.", "media": [{**item, "alt": "Waves"}]})
            assert post.status_code == 201, post.text
        names = [f"{item['upload']}-{w}.{ext}" for w in item["widths"] for ext in ("webp", "jpg")]
        if bucket:
            assert keys(s3, bucket) == sorted(f"renditions/{n}" for n in names)
            assert rows_of(env["LIVEDESK_DATABASE_URL"], item["upload"]) == 0  # the bucket alone holds them
        else:
            assert rows_of(env["LIVEDESK_DATABASE_URL"], item["upload"]) == len(names)

        for name in names:  # the other node, which never saw the upload, serves every rendition
            served = second.get(f"/media/{name}")
            assert served.status_code == 200, served.text
            assert served.headers["content-type"] == ("image/webp" if name.endswith(".webp") else "image/jpeg")
            assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
            assert served.content[:2] == b"\xff\xd8" if name.endswith(".jpg") else served.content[8:12] == b"WEBP"
        assert second.get(f"/media/{names[0]}", headers={"If-None-Match": f'"{names[0]}"'}).status_code == 304
        assert second.get(f"/media/{'0' * 24}-480.jpg").status_code == 404

        page = second.get(f"/e/{slug}").text
        assert f"/media/{item['upload']}-960.webp 960w" in page  # the site's own address, in either mode
        if bucket:
            assert s3 not in page and bucket not in page

        with second.client(second.token("editor")) as editor:  # the same file again, on the other node: stored once
            assert upload(editor, photo).json() == item
        if bucket:
            assert len(keys(s3, bucket)) == len(names)
    finally:
        second.stop()
        first.stop()


class FlakyS3(BaseHTTPRequestHandler):
    """A loopback proxy in front of the S3 server that can fail: `down` answers every request
    with 503; `refuse` answers 500 to writes of keys ending so."""

    upstream = ""
    down = False
    refuse = ""
    lock = threading.Lock()

    def _relay(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if FlakyS3.down or (self.command == "PUT" and FlakyS3.refuse and self.path.split("?")[0].endswith(FlakyS3.refuse)):
            self.send_response(503 if FlakyS3.down else 500)
            self.send_header("Content-Type", "application/xml")
            message = b"<Error><Code>InternalError</Code><Message>disk failed</Message></Error>"
            self.send_header("Content-Length", str(len(message)))
            self.end_headers()
            self.wfile.write(message)
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "content-length")}
        answer = httpx.request(self.command, FlakyS3.upstream + self.path, headers=headers, content=body, timeout=15)
        self.send_response(answer.status_code)
        for key, value in answer.headers.items():
            if key.lower() not in ("connection", "transfer-encoding", "content-length", "content-encoding", "server", "date"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(answer.content)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer.content)

    do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = _relay  # noqa: N815 - http.server names its handlers so

    def log_message(self, *args) -> None:
        pass


def test_a_bucket_that_fails_leaves_nothing_half_written_and_answers_503(tmp_path: Path, s3: str):
    bucket = new_bucket(s3)
    FlakyS3.upstream, FlakyS3.down, FlakyS3.refuse = s3, False, ""
    with http_server(FlakyS3) as proxy:
        app = App(server_env(tmp_path, LIVEDESK_POLL_SOURCES="false",
                             **bucket_env(f"http://127.0.0.1:{proxy.server_port}", bucket))).start()
        try:
            with app.client(app.token("editor")) as editor:
                slug = unique("gale")
                assert editor.post("/api/events", json={"slug": slug, "title": "Gale"}).status_code == 201
                photo = jpeg(1800, 1200)

                FlakyS3.refuse = "-1600.jpg"  # the last rendition written fails: the five before it go too
                failed = upload(editor, photo)
                assert failed.status_code == 503 and failed.headers["retry-after"]
                assert "photo bucket" in failed.json()["error"] and "nothing was stored" in failed.json()["error"]
                assert keys(s3, bucket) == []
                # a post naming the photo anyway (its id is its content's hash) is refused: no post points to nothing
                guessed = {"kind": "image", "upload": hashlib.blake2b(photo, digest_size=12).hexdigest(), "width": 1600,
                           "height": 1067, "widths": [480, 960, 1600], "alt": "Spray over the wall"}
                orphan = editor.post(f"/api/events/{slug}/posts", json={"body": "Spray.", "media": [guessed]})
                assert orphan.status_code == 422 and "upload it again" in orphan.json()["error"]

                FlakyS3.refuse, FlakyS3.down = "", True
                down = upload(editor, photo)
                assert down.status_code == 503 and keys(s3, bucket) == []
                assert editor.get(f"/api/events/{slug}/posts").json()["posts"] == []  # and no post was made

                FlakyS3.down = False
                item = upload(editor, photo).json()
                assert len(keys(s3, bucket)) == 6
                FlakyS3.down = True  # readers of a stored photo get a 503 while the bucket is away
                assert app.get(f"/media/{item['upload']}-480.jpg").status_code == 503
                FlakyS3.down = False
                assert app.get(f"/media/{item['upload']}-480.jpg").status_code == 200
        finally:
            FlakyS3.down = False
            app.stop()


def test_a_bucket_setting_without_its_bucket_or_with_another_scheme_is_refused():
    from pydantic import ValidationError

    from livedesk.config import Settings

    with pytest.raises(ValidationError, match="names no bucket"):
        Settings(media_s3_url="https://s3.example.org")
    with pytest.raises(ValidationError, match="not an http"):
        Settings(media_s3_url="ftp://s3.example.org", media_s3_bucket="photos")
    assert Settings().media_s3_url is None  # the database, unless a bucket is named


def test_an_event_moves_with_its_photos_from_one_bucket_to_another(tmp_path: Path, s3: str):
    import zipfile

    from conftest import run_cli
    from test_photos import event_with_photo

    here_bucket, there_bucket = new_bucket(s3), new_bucket(s3)
    here = App(server_env(tmp_path, LIVEDESK_POLL_SOURCES="false", **bucket_env(s3, here_bucket))).start()
    there_env = server_env(tmp_path, LIVEDESK_POLL_SOURCES="false", LIVEDESK_BROKER_URL="memory://",
                           LIVEDESK_DATABASE_URL=f"sqlite:///{tmp_path / 'there.db'}", **bucket_env(s3, there_bucket))
    try:
        slug, item = event_with_photo(here, "Ferry photos", 1000, 700)
        archive = tmp_path / "photos.zip"
        run_cli("event", "export", slug, str(archive), env=here.env)
        assert f"media/{item['upload']}-960.webp" in zipfile.ZipFile(archive).namelist()
        run_cli("db", "upgrade", env=there_env)
        run_cli("event", "import", str(archive), env=there_env)
        assert keys(s3, there_bucket) == keys(s3, here_bucket)
        there = App(there_env).start()
        try:
            name = f"/media/{item['upload']}-960.webp"
            assert there.get(name).content == here.get(name).content
        finally:
            there.stop()
    finally:
        here.stop()
