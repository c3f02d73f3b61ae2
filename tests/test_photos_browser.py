"""Photos in the desk, in Chromium: picked, dropped or pasted into the compose box, previewed,
refused without alt text, then published and shown to readers from their renditions."""

from __future__ import annotations

import base64

from playwright.sync_api import expect

from conftest import log_in, make_user
from livedesk.newsroom.photos import rendition_widths
from test_desk import create_event
from test_photos import jpeg

DROP_OR_PASTE = """([kind, b64]) => {
  const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
  const data = new DataTransfer();
  data.items.add(new File([bytes], "quay.jpg", { type: "image/jpeg" }));
  const form = document.getElementById("compose-form");
  if (kind === "drop") {
    form.dispatchEvent(new DragEvent("dragover", { dataTransfer: data, bubbles: true, cancelable: true }));
    form.querySelector("#f-body").dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true }));
  } else {
    form.querySelector("#f-body").dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
  }
}"""


def test_pick_a_photo_preview_it_and_publish_it_with_alt_text(live_server, context):  # noqa: F811
    page = context.new_page()
    log_in(page, live_server, make_user(live_server, "editor"))
    slug = create_event(page, "Storm over the quay")
    page.set_input_files("#f-photo", files=[{"name": "quay.jpg", "mimeType": "image/jpeg", "buffer": jpeg(3000, 2000)}])
    expect(page.locator("#photo-status")).to_contain_text("Photo ready (1600×1067)")
    preview = page.locator("#photo-preview")
    expect(preview).to_be_visible()
    page.wait_for_function("document.getElementById('photo-preview').naturalWidth === 480")

    page.fill("#f-body", "Waves break over the quay wall.")
    page.click("#publish")
    expect(page.locator(".error, [role=alert]").first).to_contain_text("alt text")
    page.fill("#f-alt", "Grey waves breaking over a stone quay wall")
    page.click("#publish")
    expect(page.locator(".notice")).to_have_text("Published.")

    with live_server.client() as client:
        [post] = client.get(f"/api/events/{slug}/posts").json()["posts"]
    photo = post["media"][0]
    assert photo["upload"] and photo["alt"] == "Grey waves breaking over a stone quay wall"

    reader = context.new_page()
    reader.goto(f"{live_server.url}/e/{slug}")
    img = reader.locator(f"#post-{post['id']} picture img")
    expect(img).to_have_attribute("width", "1600")
    reader.wait_for_function(f"document.querySelector('#post-{post['id']} picture img').naturalWidth > 0")
    assert "/media/" in img.evaluate("i => i.currentSrc") and ".webp" in img.evaluate("i => i.currentSrc")


def test_drop_and_paste_upload_the_photo(live_server, context):  # noqa: F811
    page = context.new_page()
    log_in(page, live_server, make_user(live_server, "editor"))
    create_event(page, "Harbour crane collapse")
    for kind, size in (("drop", (1200, 900)), ("paste", (900, 1200))):
        page.evaluate(DROP_OR_PASTE, [kind, base64.b64encode(jpeg(*size)).decode()])
        expect(page.locator("#photo-status")).to_contain_text(f"Photo ready ({size[0]}×{size[1]})")
        widths = ",".join(str(w) for w in rendition_widths(size[0]))
        assert page.input_value("#f-upload").endswith(f":{size[0]}:{size[1]}:{widths}")
    page.evaluate(DROP_OR_PASTE, ["paste", base64.b64encode(b"<svg><script>1</script></svg>").decode()])
    expect(page.locator("#photo-status")).to_contain_text("Not uploaded: the upload is not a photo")
