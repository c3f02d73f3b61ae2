// livedesk reader: local times, live updates over Server-Sent Events, "Show more",
// share links and the personal feed filter. The pages work without it.
(function () {
  "use strict";

  var FEED_KEY = "livedesk.myTopics";
  var config = readConfig();
  var list = document.querySelector("[data-posts]");

  // ---- times: the reader's own zone, named, and "5 min ago" --------------------------------

  // times in the reader's zone, or in the event's (the switch in the header; kept in this browser)
  var ZONE_KEY = "livedesk.zone";
  var eventZone = document.body.getAttribute("data-event-zone") || "UTC";
  var clockFormat, dayFormat, zoneDay;
  function setZone(useEvent) {
    var zone = useEvent ? { timeZone: eventZone } : {};
    clockFormat = new Intl.DateTimeFormat(undefined, Object.assign({ hour: "numeric", minute: "2-digit", timeZoneName: "short" }, zone));
    dayFormat = new Intl.DateTimeFormat(undefined, Object.assign({ day: "numeric", month: "short" }, zone));
    zoneDay = new Intl.DateTimeFormat("en-CA", Object.assign({ year: "numeric", month: "2-digit", day: "2-digit" }, zone));
  }
  function eventZoneChosen() {
    try { return localStorage.getItem(ZONE_KEY) === "event"; } catch (e) { return false; }
  }
  try { setZone(eventZoneChosen()); } catch (e) { eventZone = "UTC"; setZone(false); }  // an unknown zone: the reader's
  var relative = window.Intl && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(undefined, { numeric: "auto" }) : null;

  function localise(root) {
    root.querySelectorAll("time[data-local]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (isNaN(when)) return;
      var text = clockFormat.format(when);
      if (zoneDay.format(new Date()) !== zoneDay.format(when) && !el.hasAttribute("data-short")) {
        text += ", " + dayFormat.format(when);
      }
      var about = el.getAttribute("data-about");
      el.textContent = about ? "about " + text + " ± " + about + " min" : text;
      if (!about) el.title = when.toString();
    });
    updateRelative(root);
  }

  function updateRelative(root) {
    if (!relative) return;
    var now = Date.now();
    root.querySelectorAll("time[data-rel]").forEach(function (el) {
      var seconds = Math.round((new Date(el.getAttribute("datetime")) - now) / 1000);
      if (isNaN(seconds)) return;
      var abs = Math.abs(seconds);
      var text;
      if (abs < 45) text = relative.format(0, "second");
      else if (abs < 3600) text = relative.format(Math.round(seconds / 60), "minute");
      else if (abs < 86400) text = relative.format(Math.round(seconds / 3600), "hour");
      else text = relative.format(Math.round(seconds / 86400), "day");
      el.textContent = "(" + text + ")";
    });
  }

  // ---- the personal feed filter (topics kept in this browser) -------------------------------

  function myTopics() {
    try { return JSON.parse(localStorage.getItem(FEED_KEY) || "[]"); } catch (e) { return []; }
  }

  function saveTopics(topics) {
    try { localStorage.setItem(FEED_KEY, JSON.stringify(topics)); } catch (e) { /* private mode: no memory */ }
  }

  function applyFeedFilter(root) {
    var chosen = myTopics();
    var hidden = 0;
    (root || document).querySelectorAll(".posts > .post").forEach(function (post) {
      var topics = (post.getAttribute("data-topics") || "").split(" ").filter(Boolean);
      var show = !chosen.length || topics.some(function (t) { return chosen.indexOf(t) >= 0; });
      post.classList.toggle("filtered-out", !show);
      if (!show) hidden += 1;
    });
    var note = document.querySelector("[data-myfeed-note]");
    if (note) {
      note.hidden = hidden === 0;
      note.querySelector("[data-myfeed-count]").textContent = hidden + (hidden === 1 ? " post" : " posts");
    }
    var summary = document.querySelector("[data-myfeed-summary]");
    if (summary) summary.textContent = chosen.length ? chosen.join(", ") : "all topics";
  }

  function setUpFeedFilter() {
    var box = document.getElementById("myfeed");
    if (!box) return;
    box.classList.remove("await-js");
    var chosen = myTopics();
    box.querySelectorAll("input[name=topic]").forEach(function (input) {
      input.checked = chosen.indexOf(input.value) >= 0;
      input.addEventListener("change", function () {
        var picked = [];
        box.querySelectorAll("input[name=topic]:checked").forEach(function (i) { picked.push(i.value); });
        // topics chosen on other pages stay chosen
        var others = myTopics().filter(function (t) { return !box.querySelector("input[value='" + CSS.escape(t) + "']"); });
        saveTopics(others.concat(picked));
        applyFeedFilter();
      });
    });
    var clear = document.querySelector("[data-myfeed-clear]");
    if (clear) clear.addEventListener("click", function () {
      saveTopics([]);
      box.querySelectorAll("input[name=topic]").forEach(function (i) { i.checked = false; });
      applyFeedFilter();
    });
    applyFeedFilter();
  }

  // ---- share links: copy, scroll to and highlight the post --------------------------------

  function highlight(id) {
    var el = document.getElementById(id);
    if (!el) return;
    document.querySelectorAll(".post.highlight").forEach(function (p) { p.classList.remove("highlight"); });
    el.classList.add("highlight");
    el.scrollIntoView({ block: "start" });
  }

  document.addEventListener("click", function (e) {
    var share = e.target.closest && e.target.closest("[data-share]");
    if (!share) return;
    var url = location.origin + location.pathname + share.getAttribute("href");
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(url).catch(function () {});
    share.firstChild.textContent = "Link copied";
    setTimeout(function () { share.firstChild.textContent = "Share"; }, 2000);
  });
  window.addEventListener("hashchange", showLinkedPost);

  // a card's "Play here": the card's picture gives way to this site's player page, which alone
  // lets the provider's player in (nothing of the provider's loads before this click)
  document.addEventListener("click", function (e) {
    var play = e.target.closest && e.target.closest("a[data-player]");
    if (!play || e.ctrlKey || e.metaKey || e.shiftKey) return;
    e.preventDefault();
    var card = play.closest("figure");
    var frame = document.createElement("iframe");
    frame.src = play.getAttribute("href");
    frame.className = "card-player card-player-" + (play.getAttribute("data-player") === "post" ? "post" : "video");
    frame.title = play.getAttribute("data-title") || "Player";
    frame.setAttribute("allow", "autoplay; encrypted-media; fullscreen; picture-in-picture");
    frame.setAttribute("allowfullscreen", "");
    var thumb = card && card.querySelector(".card-thumb");
    if (thumb) thumb.remove();
    play.replaceWith(frame);
    frame.focus();
  });

  // a link to a post that is not on this page (an older one): fetch it and show it on top
  function showLinkedPost() {
    var id = location.hash.slice(1);
    if (id.indexOf("post-") !== 0) return;
    if (document.getElementById(id) || !list || !config || !config.fragment) return highlight(id);
    fetch(config.fragment + encodeURIComponent(id.slice(5)) + "?fragment=1", { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) throw new Error("fragment " + r.status);
      return r.text();
    }).then(function (html) {
      var holder = document.createElement("ol");
      holder.className = "posts";
      holder.setAttribute("aria-label", "The post you followed a link to");
      holder.innerHTML = html.trim();
      localise(holder);
      list.parentNode.insertBefore(holder, list);
      highlight(id);
    }).catch(function () {});
  }

  // ---- live updates -----------------------------------------------------------------------

  var known = {};  // post id -> "version|updated_at" of what the page shows
  var queued = [];  // new posts waiting for a reader who is scrolled down
  var lastId = config && config.since ? config.since : 0;
  var source = null;
  var lastMessageAt = Date.now();
  var button = document.querySelector("[data-newposts]");
  var connNote = document.querySelector("[data-conn]");
  var lostTimer = null;
  var staleLinks = {};  // post id -> true: redraw its "In other media" links once its card is here

  function stamp(post) { return post.version + "|" + post.updated_at; }

  function remember(root) {
    root.querySelectorAll(".post[data-id]").forEach(function (el) {
      known[el.getAttribute("data-id")] = el.getAttribute("data-version") + "|" + el.getAttribute("data-updated");
    });
  }

  function wanted(post) {
    var f = config.filters || {};
    if (f.q) return false;  // a search result list stays as it is
    if (f.topic && (post.topics || []).indexOf(f.topic) < 0) return false;
    if (f.outlets === "own" && !post.outlet.own) return false;
    return true;
  }

  function atTop() {
    var top = list.getBoundingClientRect().top;
    return top >= -40;
  }

  // a post's card as the server draws it now; `query` tells versions apart for caches
  function fetchFragment(id, query) {
    var url = config.fragment + encodeURIComponent(id) + "?fragment=1" + query + (config.embed ? "&embed=1" : "");
    return fetch(url, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) throw new Error("fragment " + r.status);
      return r.text();
    }).then(function (html) {
      var holder = document.createElement("ol");
      holder.innerHTML = html.trim();
      return holder.querySelector(".post");
    });
  }

  function fetchCard(post) {
    return fetchFragment(post.id, "&v=" + post.version + "&t=" + encodeURIComponent(post.updated_at)).then(function (card) {
      localise(card);
      if (staleLinks[post.id]) { delete staleLinks[post.id]; redrawOtherMedia(post.id); }  // done once the card is placed
      return card;
    });
  }

  // keeps the text under the reader still while something above the viewport changes size
  function keepPlace(el, change) {
    var above = el && el.getBoundingClientRect().bottom < 0;
    var before = document.documentElement.scrollHeight;
    change();
    if (above) window.scrollBy(0, document.documentElement.scrollHeight - before);
  }

  function insertCard(card) {
    var existing = document.getElementById(card.id);
    if (existing) { existing.replaceWith(card); return; }
    var empty = document.querySelector("[data-empty]");
    if (empty) empty.remove();
    if (config.filters && config.filters.order === "oldest") {
      list.appendChild(card);
    } else {
      // newest first, in time order: a post may carry an earlier time than the top one
      var when = Date.parse(card.getAttribute("data-published"));
      var next = null;
      list.querySelectorAll(".post:not([data-pinned])").forEach(function (other) {
        if (!next && Date.parse(other.getAttribute("data-published")) <= when) next = other;
      });
      if (!next && !config.atEnd && list.querySelector(".post:not([data-pinned])")) return;  // older than all shown: "Show more" brings it
      list.insertBefore(card, next);
    }
    applyFeedFilter(list);
    if (config.embed) trimEmbed();
  }

  function trimEmbed() {
    var cards = list.querySelectorAll(".post:not([data-pinned])");
    for (var i = 10; i < cards.length; i++) cards[i].remove();
  }

  function showQueued() {
    var cards = queued;
    queued = [];
    cards.reverse().forEach(function (card) { insertCard(card); });  // oldest first, so the newest ends on top
    updateButton();
  }

  function updateButton() {
    if (!button) return;
    button.hidden = queued.length === 0;
    button.textContent = queued.length === 1 ? "1 new post" : queued.length + " new posts";
  }

  function onCreated(post) {
    if (known[post.id] === stamp(post)) return;
    if (known[post.id]) return onUpdated(post);
    if (!wanted(post) || config.paged) return;
    if (config.filters && config.filters.order === "oldest" && !config.atEnd) return;  // it comes with "Show more"
    known[post.id] = stamp(post);
    bumpCount(1);
    fetchCard(post).then(function (card) {
      var newest = !config.filters || config.filters.order !== "oldest";
      if (!newest || atTop()) insertCard(card);
      else { queued.unshift(card); updateButton(); }
    }).catch(function () { delete known[post.id]; });
  }

  function onUpdated(post) {
    var el = document.getElementById("post-" + post.id);
    var waiting = queuedCard(post.id);
    if (!el && !waiting) return onCreated(post);
    if (known[post.id] === stamp(post)) return;
    known[post.id] = stamp(post);
    fetchCard(post).then(function (card) {
      card.classList.add("just-updated");
      var head = card.querySelector(".post-head");
      var tag = document.createElement("span");
      tag.className = "tag tag-updated";
      tag.textContent = "Updated";
      head.appendChild(tag);
      if (waiting) { queued[queued.indexOf(waiting)] = card; return; }
      var current = document.getElementById(card.id);
      if (!current) return;
      keepPlace(current, function () {
        if (post.pinned && !current.hasAttribute("data-pinned")) { current.remove(); list.insertBefore(card, list.firstChild); }
        else current.replaceWith(card);
      });
      applyFeedFilter(list);
    }).catch(function () {});
  }

  function onDeleted(data) {
    delete known[data.id];
    queued = queued.filter(function (c) { return c.id !== "post-" + data.id; });
    updateButton();
    var el = document.getElementById("post-" + data.id);
    if (el) { keepPlace(el, function () { el.remove(); }); bumpCount(-1); }
  }

  function bumpCount(delta) {
    var count = document.querySelector("[data-post-count]");
    if (count) count.textContent = String(Math.max(0, parseInt(count.textContent, 10) + delta));
  }

  function onKeyPoints(data) {
    var box = document.querySelector("[data-keypoints]");
    if (!box) return;
    var ul = box.querySelector("ul");
    ul.textContent = "";
    (data.key_points || []).forEach(function (point) {
      var li = document.createElement("li");
      if (point.post_id) {
        var a = document.createElement("a");
        a.href = "#post-" + point.post_id;
        a.textContent = point.text;
        li.appendChild(a);
      } else li.textContent = point.text;
      ul.appendChild(li);
    });
    box.hidden = !(data.key_points || []).length;
  }

  function onEventUpdated(event) {
    document.querySelectorAll("[data-status]").forEach(function (badge) {
      var live = event.status === "live";
      badge.textContent = live ? "Live" : "Ended";
      badge.className = "badge " + (live ? "badge-live" : "badge-ended");
    });
    var last = document.querySelector("[data-last-update]");
    if (last && event.updated_at) { last.setAttribute("datetime", event.updated_at); localise(last.parentNode); }
    if (event.key_points) onKeyPoints(event);
  }

  // other outlets' reports of the same development: redraw the "In other media" links of the
  // posts whose development changed (all posts on the page after a change too big to list)
  function onDevelopments(data) {
    var ids = {};
    if (data.reload) Object.keys(known).forEach(function (id) { ids[id] = true; });
    (data.developments || []).forEach(function (d) { d.post_ids.forEach(function (id) { ids[id] = true; }); });
    Object.keys(ids).forEach(function (id) {
      if (document.getElementById("post-" + id) || queuedCard(id)) redrawOtherMedia(id);
      else if (known[id]) staleLinks[id] = true;  // its card is on the way, perhaps drawn before this change
    });
  }

  function queuedCard(id) {
    return queued.filter(function (c) { return c.id === "post-" + id; })[0];
  }

  function redrawOtherMedia(id) {
    fetchFragment(id, "").then(function (card) {
      var fresh = card.querySelector(".other-media");
      var current = document.getElementById("post-" + id) || queuedCard(id);
      if (!current) return;
      var old = current.querySelector(".other-media");
      keepPlace(current, function () {
        if (old && fresh) old.replaceWith(fresh);
        else if (old) old.remove();
        else if (fresh) current.querySelector("article").appendChild(fresh);
      });
    }).catch(function () {});
  }

  var handlers = {
    "developments.updated": onDevelopments,
    "post.created": onCreated,
    "post.updated": onUpdated,
    "post.pinned": onUpdated,
    "post.deleted": onDeleted,
    "keypoints.updated": onKeyPoints,
    "event.updated": onEventUpdated
  };

  function connect() {
    if (source) source.close();
    source = new EventSource(config.stream + "?since=" + encodeURIComponent(lastId));
    source.onopen = function () {
      lastMessageAt = Date.now();
      document.documentElement.setAttribute("data-live", "open");
      connectionOk();
    };
    source.onerror = function () {
      if (source.readyState === EventSource.CLOSED) { connectionLost(); setTimeout(connect, 3000); }
      else connectionLost();  // the browser retries by itself, sending Last-Event-ID
    };
    Object.keys(handlers).forEach(function (kind) {
      source.addEventListener(kind, function (e) {
        lastMessageAt = Date.now();
        if (e.lastEventId) lastId = Math.max(lastId, parseInt(e.lastEventId, 10) || 0);
        var data;
        try { data = JSON.parse(e.data); } catch (err) { return; }
        handlers[kind](data);
      });
    });
    source.addEventListener("message", function () { lastMessageAt = Date.now(); });
  }

  function connectionLost() {
    document.documentElement.setAttribute("data-live", "lost");
    if (lostTimer) return;
    lostTimer = setTimeout(function () { if (connNote) connNote.hidden = false; }, 1500);
  }

  function connectionOk() {
    clearTimeout(lostTimer);
    lostTimer = null;
    if (connNote) connNote.hidden = true;
  }

  // after a laptop sleep or a long stay in the background the socket may be dead without an
  // error: reconnect from the last id we saw; the server replays what we missed
  var ticking = Date.now();
  setInterval(function () {
    var now = Date.now();
    var slept = now - ticking > 30000;
    ticking = now;
    updateRelative(document);
    if (source && (slept || now - lastMessageAt > 60000)) { lastMessageAt = now; connect(); }
  }, 5000);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && source && Date.now() - lastMessageAt > 30000) connect();
  });
  window.addEventListener("online", function () { if (source) connect(); });
  window.addEventListener("scroll", function () {
    if (queued.length && atTop()) showQueued();
  }, { passive: true });
  if (button) button.addEventListener("click", function () {
    showQueued();
    list.scrollIntoView({ block: "start" });
  });

  // ---- "Show more" ------------------------------------------------------------------------

  function setUpMore() {
    var more = document.querySelector("[data-more]");
    if (!more || !config.more) return;
    more.addEventListener("click", function (e) {
      e.preventDefault();
      var url = config.more + new URL(more.href).search;
      more.textContent = "Loading…";
      fetch(url, { credentials: "same-origin" }).then(function (r) {
        if (!r.ok) throw new Error("more " + r.status);
        return r.text();
      }).then(function (html) {
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var page = holder.querySelector("ol");
        localise(page);
        page.querySelectorAll(".post").forEach(function (card) {
          if (!document.getElementById(card.id)) list.appendChild(card);
        });
        remember(list);
        applyFeedFilter(list);
        var next = page.getAttribute("data-next");
        if (next) {
          var target = new URL(more.href);
          target.searchParams.set(config.cursorParam || "before", next);
          more.href = target.pathname + target.search;
          more.textContent = "Show more";
        } else {
          more.parentNode.remove();
          config.atEnd = true;
        }
      }).catch(function () { more.textContent = "Show more (try again)"; });
    });
  }

  function setUpZoneSwitch() {
    var button = document.querySelector("[data-zone-switch]");
    if (!button || !document.querySelector("time[data-local]")) return;
    var names = function (useEvent) {
      var opts = { timeZoneName: "short" };
      if (useEvent) opts.timeZone = eventZone;
      var part = new Intl.DateTimeFormat(undefined, opts).formatToParts(new Date()).filter(function (p) { return p.type === "timeZoneName"; })[0];
      return part ? part.value : eventZone;
    };
    var label = function () {
      var useEvent = eventZoneChosen();
      button.textContent = useEvent ? "Times in the event's zone (" + names(true) + ")" : "Times in your zone (" + names(false) + ")";
      button.setAttribute("aria-label", button.textContent + ". Switch to " + (useEvent ? "your zone" : "the event's zone"));
    };
    button.classList.remove("await-js");
    label();
    button.addEventListener("click", function () {
      var useEvent = !eventZoneChosen();
      try { localStorage.setItem(ZONE_KEY, useEvent ? "event" : "local"); } catch (e) { /* private mode */ }
      setZone(useEvent);
      localise(document);
      label();
    });
  }

  function readConfig() {
    var el = document.getElementById("live-config");
    if (!el) return null;
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
  }

  // ---- start --------------------------------------------------------------------------------

  localise(document);
  setUpZoneSwitch();
  setUpFeedFilter();
  if (list && config && config.stream) {
    remember(list);
    setUpMore();
    if (!config.paged) connect();
  }
  showLinkedPost();
})();
