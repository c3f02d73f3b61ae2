"""Photos uploaded from the desk: a real image within limits, cleaned and made into renditions,
served from the database with long cache headers, and shown to readers with srcset."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from conftest import unique


def jpeg(width: int, height: int, *, orientation: int | None = None, gps: bool = False) -> bytes:
    image = Image.new("RGB", (width, height), (200, 60, 40))
    for x in range(0, width, max(1, width // 8)):  # a little structure, so the encoders have work
        image.paste((20, 80, 160), (x, 0, x + max(1, width // 16), height))
    exif = Image.Exif()
    exif[0x010F] = "Harbour Camera Co"  # Make
    if orientation:
        exif[0x0112] = orientation
    if gps:
        exif[0x8825] = {1: "N", 2: (59.0, 54.0, 30.0), 3: "E", 4: (10.0, 44.0, 12.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def png_bomb(width: int, height: int) -> bytes:
    """A valid PNG of width × height black pixels that compresses to a few kilobytes."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = zlib.compress(b"\0" * ((width + 7) // 8 + 1) * height, 9)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", rows) + chunk(b"IEND", b""))


def event_with_photo(server, title: str, width: int, height: int) -> tuple[str, dict]:
    """A new event whose one post holds an uploaded photo: its slug and the photo's media item."""
    slug = unique("photos")
    with server.client(server.token("editor")) as editor:
        assert editor.post("/api/events", json={"slug": slug, "title": title}).status_code == 201
        item = upload(editor, jpeg(width, height)).json()
        post = editor.post(f"/api/events/{slug}/posts", json={"body": title, "media": [{**item, "alt": title}]})
        assert post.status_code == 201, post.text
    return slug, item


def upload(client, data: bytes, name: str = "photo.jpg", kind: str = "image/jpeg"):
    return client.post("/api/media", files={"file": (name, data, kind)})


def test_a_camera_photo_is_turned_upright_stripped_and_resized(server, editor):
    original = jpeg(4000, 3000, orientation=6, gps=True)  # 12 megapixels, taken on its side
    answer = upload(editor, original)
    assert answer.status_code == 201, answer.text
    item = answer.json()
    assert item["widths"] == [480, 960, 1600]
    assert (item["width"], item["height"]) == (1600, 2133)  # upright: taller than wide
    assert item["url"] == f"/media/{item['upload']}-1600.jpg"
    total = 0
    for width in item["widths"]:
        for ext, kind in (("jpg", "JPEG"), ("webp", "WEBP")):
            served = server.get(f"/media/{item['upload']}-{width}.{ext}")
            assert served.status_code == 200
            assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
            assert served.headers["content-type"] == f"image/{'jpeg' if ext == 'jpg' else 'webp'}"
            image = Image.open(io.BytesIO(served.content))
            assert image.format == kind and image.width == width and image.height == round(width * 4000 / 3000)
            assert not image.getexif() and b"Harbour Camera" not in served.content
            total += len(served.content)
    assert total < len(original)
    again = server.get(f"/media/{item['upload']}-480.jpg", headers={"If-None-Match": f'"{item["upload"]}-480.jpg"'})
    assert again.status_code == 304
    assert upload(editor, original).json() == item  # the same file twice is stored once


def test_a_small_picture_is_never_enlarged(editor):
    item = upload(editor, jpeg(300, 200)).json()
    assert item["widths"] == [300] and (item["width"], item["height"]) == (300, 200)


@pytest.mark.parametrize(("data", "name", "status", "words"), [
    (b"", "empty.jpg", 422, "empty"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "x.svg", 422, "not a photo"),
    (b"GIF89a/*<script>alert(1)</script>*/=1;" + b"\0" * 40, "poly.gif", 422, "not a photo"),
    (b"%PDF-1.4\n1 0 obj<<>>endobj\n", "doc.pdf", 422, "not a photo"),
    (png_bomb(30_000, 30_000), "bomb.png", 413, "megapixels"),
    (png_bomb(10_000, 10_000), "hundred.png", 413, "megapixels"),
])
def test_hostile_uploads_are_refused(server, editor, data, name, status, words):
    answer = upload(editor, data, name)
    assert answer.status_code == status, answer.text
    assert words in answer.json()["error"]


def test_a_truncated_photo_and_an_oversized_body_are_refused(editor):
    whole = jpeg(800, 600)
    cut = upload(editor, whole[: len(whole) // 2])
    assert cut.status_code == 422 and "damaged" in cut.json()["error"]
    huge = upload(editor, b"\xff\xd8" + b"\0" * 26_000_000)
    assert huge.status_code == 413


def test_a_polyglot_is_rewritten_from_its_pixels(server, editor):
    payload = b"<html><script>alert(document.cookie)</script></html>"
    item = upload(editor, jpeg(640, 480) + payload).json()
    for ext in ("jpg", "webp"):
        assert payload not in server.get(f"/media/{item['upload']}-480.{ext}").content


def test_only_writers_upload_and_unknown_files_are_404(server):
    assert upload(server.client(), jpeg(100, 100)).status_code == 401
    assert server.get("/media/../../etc/passwd").status_code == 404
    assert server.get("/media/" + "0" * 24 + "-480.jpg").status_code == 404


def test_an_uploaded_photo_needs_alt_text_and_reaches_page_feeds_and_json_ld(server, editor, event):
    item = upload(editor, jpeg(2000, 1000)).json()
    url = f"/api/events/{event}/posts"
    refused = editor.post(url, json={"body": "Boats at the quay.", "media": [item]})
    assert refused.status_code == 422 and "alt text" in refused.json()["error"]
    draft = editor.post(url, json={"body": "Boats at the quay.", "media": [item], "status": "draft"})
    assert draft.status_code == 201
    forged = {**item, "url": "https://elsewhere.example/x.jpg", "alt": "Boats"}
    post = editor.post(url, json={"body": "Boats at the quay.", "media": [forged]})
    assert post.status_code == 201
    assert post.json()["media"][0]["url"] == item["url"]  # the URL is the upload's own, not the one sent
    made_up = {**item, "upload": "0" * 24, "alt": "Boats"}  # an id no upload gave
    missing = editor.post(url, json={"body": "Boats at the quay.", "media": [made_up]})
    assert missing.status_code == 422 and "no uploaded photo" in missing.json()["error"]
    first = editor.post(url, json={"body": "Later.", "headline": unique("h")}).json()
    assert first["id"]

    page = server.get(f"/e/{event}").text
    assert f'/media/{item["upload"]}-960.webp 960w' in page and f'/media/{item["upload"]}-480.jpg 480w' in page
    assert 'width="1600" height="800"' in page and 'alt="Boats"' in page
    assert 'loading="lazy"' in page  # the photo's post is not the first on the page
    feed = server.get(f"/e/{event}/feed.json").json()
    assert any(i.get("image", "").endswith(item["url"]) for i in feed["items"])
    assert f'{server.url}{item["url"]}' in page.split('application/ld+json')[1]  # the JSON-LD's image
    embed = server.get(f"/embed/{event}").text
    assert f'/media/{item["upload"]}-1600.webp 1600w' in embed
