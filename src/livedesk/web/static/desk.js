// The desk's small helpers: live preview, Ctrl+Enter, quotes, local times, autosave.
// Every form also works without this file.
(function () {
  "use strict";

  const meta = document.querySelector('meta[name="csrf-token"]');
  const csrf = meta ? meta.content : "";
  document.documentElement.classList.add("js");

  function debounce(fn, ms) {
    let timer = null;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  }

  function sendJSON(method, url, data, extraHeaders) {
    return fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: Object.assign({ "Content-Type": "application/json", "X-CSRF-Token": csrf }, extraHeaders || {}),
      body: JSON.stringify(data),
    }).then(function (response) {
      if (!response.ok) {
        const error = new Error("HTTP " + response.status);
        error.status = response.status;
        throw error;
      }
      return response.json();
    });
  }

  // Times: shown in UTC by the server, in the editor's own zone here.
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  const clock = new Intl.DateTimeFormat(undefined, {
    month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short",
  });
  document.querySelectorAll("time[datetime]").forEach(function (el) {
    const when = new Date(el.getAttribute("datetime"));
    if (!isNaN(when)) el.textContent = clock.format(when);
  });

  // Confirm before destructive buttons.
  document.querySelectorAll("form.confirm").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      if (!window.confirm(form.dataset.confirm || "Are you sure?")) e.preventDefault();
    });
  });

  // Presence: say every beat (5 s by default) what this user is doing; the desk's stream says who else is here.
  const presence = document.getElementById("presence");
  let lastTyped = 0;
  if (presence) {
    const base = "/desk/e/" + encodeURIComponent(presence.dataset.slug) + "/presence";
    document.addEventListener("input", function () { lastTyped = Date.now(); });
    const tell = function () {
      const editing = presence.dataset.post;
      const state = editing ? "editing" : (Date.now() - lastTyped < 10000 ? "writing" : "online");
      sendJSON("POST", base, { state: state, post_id: editing || null }).catch(function () { /* next beat */ });
    };
    tell();
    setInterval(tell, Number(presence.dataset.beat) || 5000);
    const words = { online: "online", writing: "writing a post" };
    const list = document.getElementById("presence-list");
    const readersNow = document.getElementById("readers-now");
    new EventSource(base + "/stream").addEventListener("presence", function (e) {
      const now = JSON.parse(e.data);
      const shown = Number(presence.dataset.pending);
      if (presence.dataset.pending !== undefined && now.pending !== undefined && now.pending > shown) {
        const news = document.getElementById("pending-news");
        const more = now.pending - shown;
        news.replaceChildren(more + (more === 1 ? " new post is" : " new posts are") + " waiting for approval. ");
        const link = document.createElement("a");
        link.href = location.pathname + "#pending-h";
        link.textContent = "Show them";
        link.addEventListener("click", function (ev) { ev.preventDefault(); location.hash = "pending-h"; location.reload(); });
        news.appendChild(link);
        news.hidden = false;
      }
      readersNow.textContent = now.readers + (now.readers === 1 ? " reader" : " readers") + " on the page now";
      list.replaceChildren();
      document.querySelectorAll(".editing-badge").forEach(function (b) { b.remove(); });
      now.editors.forEach(function (who) {
        const item = document.createElement("li");
        const post = who.post ? document.getElementById("post-" + who.post) : null;
        item.textContent = who.user + " — " + (who.state === "editing" ? "editing a post" : words[who.state] || who.state);
        list.appendChild(item);
        if (post && who.state === "editing") {
          const badge = document.createElement("span");
          badge.className = "badge editing-badge";
          badge.textContent = who.user + " is editing";
          (post.querySelector("header") || post).appendChild(badge);
        }
      });
    });
  }

  const form = document.getElementById("compose-form") || document.getElementById("edit-form");
  if (!form) return;
  const body = form.querySelector("#f-body");
  const preview = document.getElementById("preview");
  const status = document.getElementById("autosave");
  const submitButton = document.getElementById("publish") || document.getElementById("save-edit");

  // The schedule input is read in the editor's zone; the server converts it to UTC.
  const tzField = document.getElementById("f-tz");
  if (tzField) tzField.value = zone;
  const tzName = document.getElementById("tz-name");
  if (tzName) tzName.textContent = "(your time, " + zone + ")";

  // Live preview through the same sanitiser as publishing.
  const refresh = debounce(function () {
    sendJSON("POST", "/desk/preview", { body: body.value })
      .then(function (data) {
        preview.innerHTML = data.html || '<p class="muted">Nothing to preview yet.</p>';
      })
      .catch(function () {
        preview.textContent = "The preview is not available right now.";
      });
  }, 250);
  body.addEventListener("input", refresh);
  if (body.value.trim()) refresh();

  // Ctrl+Enter (Cmd+Enter on a Mac) publishes.
  form.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      form.requestSubmit(submitButton);
    }
  });

  // A quote goes into the text as a blockquote with an attribution line.
  const quoteButton = document.getElementById("insert-quote");
  if (quoteButton) {
    quoteButton.addEventListener("click", function () {
      const text = form.querySelector("#f-quote");
      const speaker = form.querySelector("#f-speaker");
      if (!text.value.trim()) { text.focus(); return; }
      let block = text.value.trim().split("\n").map(function (l) { return ("> " + l).trimEnd(); }).join("\n");
      if (speaker.value.trim()) block += "\n>\n> — " + speaker.value.trim();
      const at = body.selectionEnd || body.value.length;
      const before = body.value.slice(0, at).replace(/\s*$/, "");
      const after = body.value.slice(at).replace(/^\s*/, "");
      body.value = (before ? before + "\n\n" : "") + block + "\n\n" + after;
      text.value = "";
      speaker.value = "";
      body.focus();
      body.dispatchEvent(new Event("input", { bubbles: true }));
    });
  }

  // A photo from this computer: picked, dropped or pasted, uploaded at once, kept as the post's image.
  const photoInput = document.getElementById("f-photo");
  const photoDrop = document.getElementById("photo-drop");
  const photoStatus = document.getElementById("photo-status");
  let photoPreview = document.getElementById("photo-preview");
  if (!photoPreview && photoDrop) {  // made here: an img without a photo is not valid HTML
    photoPreview = document.createElement("img");
    photoPreview.id = "photo-preview";
    photoPreview.alt = "";
    photoPreview.hidden = true;
    photoDrop.insertBefore(photoPreview, photoStatus);
  }
  const uploadField = document.getElementById("f-upload");
  const imageUrl = form.querySelector("#f-image");

  function uploadPhoto(file) {
    if (!file || !/^image\//.test(file.type)) {
      photoStatus.textContent = "That is not a photo: pick a JPEG, PNG, WebP or GIF.";
      return;
    }
    document.getElementById("image-fields").open = true;
    photoStatus.textContent = "Uploading " + file.name + "…";
    const data = new FormData();
    data.append("file", file, file.name || "pasted.png");
    fetch("/api/media", { method: "POST", body: data, credentials: "same-origin", headers: { "X-CSRF-Token": csrf } })
      .then(function (response) {
        return response.json().then(function (answer) {
          if (!response.ok) throw new Error(answer.error || "HTTP " + response.status);
          return answer;
        });
      })
      .then(function (item) {
        uploadField.value = [item.upload, item.width, item.height, item.widths.join(",")].join(":");
        imageUrl.value = item.url;
        photoPreview.src = "/media/" + item.upload + "-" + item.widths[0] + ".jpg";
        photoPreview.hidden = false;
        photoStatus.textContent = "Photo ready (" + item.width + "×" + item.height + "). Describe it for screen readers.";
        form.querySelector("#f-alt").focus();
        form.dispatchEvent(new Event("input", { bubbles: true }));
      })
      .catch(function (err) { photoStatus.textContent = "Not uploaded: " + err.message; });
  }

  if (photoInput) {
    photoInput.addEventListener("change", function () { uploadPhoto(photoInput.files[0]); });
    imageUrl.addEventListener("input", function () { uploadField.value = ""; photoPreview.hidden = true; });
    ["dragenter", "dragover"].forEach(function (name) {
      form.addEventListener(name, function (e) {
        if (e.dataTransfer && Array.from(e.dataTransfer.types).indexOf("Files") >= 0) {
          e.preventDefault();
          photoDrop.classList.add("over");
        }
      });
    });
    form.addEventListener("dragleave", function () { photoDrop.classList.remove("over"); });
    form.addEventListener("drop", function (e) {
      if (!e.dataTransfer || !e.dataTransfer.files.length) return;
      e.preventDefault();
      photoDrop.classList.remove("over");
      uploadPhoto(e.dataTransfer.files[0]);
    });
    form.addEventListener("paste", function (e) {
      const files = e.clipboardData ? Array.from(e.clipboardData.files) : [];
      if (!files.length) return;
      e.preventDefault();
      uploadPhoto(files[0]);
    });
  }

  if (form.id !== "compose-form") return;

  // Autosave, 1: every keystroke to this browser, so a closed tab loses nothing.
  const slug = form.dataset.slug;
  const localKey = "livedesk:compose:" + slug;
  const fieldNames = ["headline", "body", "topics", "embed_url", "image_url", "image_upload", "image_alt", "image_caption", "image_credit",
    "video_url", "video_title", "video_duration", "video_source", "quote_text", "quote_speaker"];

  function fields() {
    const values = {};
    fieldNames.forEach(function (name) { values[name] = form.elements[name].value; });
    return values;
  }

  function hasContent(values) {
    return Boolean(values.body.trim() || values.headline.trim());
  }

  function say(text) { if (status) status.textContent = text; }

  // The local copy goes only once the server has taken the post (a lapsed session keeps it).
  const sent = new URLSearchParams(location.search).get("done");
  if (["published", "pending", "scheduled", "draft"].indexOf(sent) >= 0) {
    try { localStorage.removeItem(localKey); } catch (err) { /* nothing to clear */ }
  }

  if (!form.dataset.draft && !hasContent(fields())) {
    try {
      const saved = JSON.parse(localStorage.getItem(localKey) || "null");
      if (saved && hasContent(saved)) {
        fieldNames.forEach(function (name) { if (saved[name]) form.elements[name].value = saved[name]; });
        say("Restored the text you had not published.");
        refresh();
      }
    } catch (err) { /* storage unavailable or corrupt: start empty */ }
  }

  let dirty = false;
  let submitted = false;
  form.addEventListener("input", function () {
    dirty = true;
    try { localStorage.setItem(localKey, JSON.stringify(fields())); } catch (err) { /* full or blocked */ }
  });
  let sendAfterSave = null;
  form.addEventListener("submit", function (event) {
    if (saving) {  // an autosave is on its way: send the form once it holds the version that makes
      event.preventDefault();
      const button = event.submitter;
      sendAfterSave = function () { form.requestSubmit(button); };
      return;
    }
    submitted = true;
  });

  // Autosave, 2: every few seconds to the server, as one draft post that is then patched.
  function duration(text) {
    if (!/^\d{1,6}(:\d{1,2}){0,2}$/.test(text.trim())) return null;
    return text.trim().split(":").reduce(function (sum, part) { return sum * 60 + Number(part); }, 0);
  }

  function draftData(values) {
    const media = [];
    if (values.image_url) {
      const image = { kind: "image", url: values.image_url, alt: values.image_alt || null,
        caption: values.image_caption || null, credit: values.image_credit || null };
      const upload = values.image_upload.split(":");
      if (upload.length === 4) {
        Object.assign(image, { upload: upload[0], width: Number(upload[1]), height: Number(upload[2]),
          widths: upload[3].split(",").map(Number) });
      }
      media.push(image);
    }
    if (values.video_url) {
      media.push({ kind: "video", url: values.video_url, title: values.video_title || null,
        duration_s: duration(values.video_duration), source: values.video_source || null });
    }
    const topics = values.topics.split(",").map(function (t) { return t.trim(); }).filter(Boolean);
    return { headline: values.headline || null, body: values.body, media: media, topics: topics };
  }

  let saving = false;
  function autosave() {
    if (!dirty || saving || submitted) return;
    const values = fields();
    if (!hasContent(values)) return;
    const draft = form.dataset.draft;
    const data = draftData(values);
    const url = "/api/events/" + encodeURIComponent(slug) + "/posts";
    saving = true;
    dirty = false;
    // a draft is shared with the event's other editors: save only over the version this page holds
    const started = form.dataset.version ? { "If-Match": '"v' + form.dataset.version + '"' } : {};
    const request = draft
      ? sendJSON("PATCH", url + "/" + encodeURIComponent(draft), data, started)
      : sendJSON("POST", url, Object.assign({ status: "draft" }, data));
    request
      .then(function (post) {
        form.dataset.version = post.version;
        form.elements.version.value = post.version;  // publishing the draft names it too
        if (!draft) {
          form.dataset.draft = post.id;
          form.elements.draft_id.value = post.id;
          history.replaceState(null, "", "?draft=" + encodeURIComponent(post.id) + "#compose");
        }
        say("Draft saved " + new Date().toLocaleTimeString());
        if (!dirty) {  // the server has it all now
          try { localStorage.removeItem(localKey); } catch (err) { /* nothing to clear */ }
        }
      })
      .catch(function (err) {
        if (err.status === 412) {  // another editor saved this draft: never write over their text
          submitted = true;
          say("Another editor changed this draft. Your text is kept in this browser; reload to see theirs.");
          return;
        }
        dirty = true;
        say("Not saved to the server yet; your text is kept in this browser.");
      })
      .finally(function () {
        saving = false;
        if (sendAfterSave) {
          const send = sendAfterSave;
          sendAfterSave = null;
          send();
        }
      });
  }
  setInterval(autosave, 5000);
})();
