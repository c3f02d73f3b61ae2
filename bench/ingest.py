"""How fast the ingest readers split live pages, and whether the time grows linearly.

Generates fictional live pages of 100, 1,000 and 10,000 posts, as copied page text, as HTML
whose entries carry `<time>` elements, and as HTML whose entries are microdata
(`itemprop="liveBlogUpdate"`), parses each with read_page, and prints posts per second and the time ratio per
doubling of the post count (2.0 is linear growth; 4.0 would be quadratic).

    python bench/ingest.py
"""

from __future__ import annotations

import math
import os
import time
from datetime import datetime, timedelta

from livedesk.ingest.page import read_page

SIZES = (100, 1_000, 10_000)
REPEATS = 3
START = datetime(2026, 3, 20, 23, 59, 30)
PLACES = ["the north quay", "the ring road", "the river bank", "the old mill", "the harbour office"]
WHAT = ["crews report", "officials confirm", "residents describe", "the council says", "engineers expect"]


def sentences(i: int) -> tuple[str, str]:
    place, what = PLACES[i % len(PLACES)], WHAT[(i * 7) % len(WHAT)]
    first = f"Update {i}: {what} that work near {place} continues through the evening shift."
    second = f"About {i % 90 + 10} people were at {place} when the update number {i} was written down."
    return first, second


def stamp(i: int) -> datetime:
    return START - timedelta(minutes=7 * i, seconds=i % 60)  # newest first, crossing many midnights


def text_page(posts: int) -> str:
    lines = ["News desk", "All news", "", "River works in Eastham: live", "", "March 20, 9:00 UTC+2", "",
             "Crews work day and night on the river wall", ""]
    for i in range(posts):
        first, second = sentences(i)
        lines += [stamp(i).strftime("%H:%M:%S %d.%m.%Y"), "", first, "", second, ""]
        if i % 10 == 3:
            lines += ["© Ada Moor/Eastham Wire", ""]
        if i % 25 == 7:
            lines += ["Share on Facebook", ""]
    lines += ["Show more", "Partner News"]
    return "\n".join(lines)


def html_page(posts: int) -> str:
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>River works live | Eastham Wire</title>",
             "</head><body><nav><a href='/'>Home</a></nav><main><h1>River works in Eastham: live</h1>",
             "<p>All times are UK time.</p>"]
    for i in range(posts):
        first, second = sentences(i)
        parts.append(
            f"<article><h2>Update {i} from {PLACES[i % len(PLACES)]}</h2>"
            f"<time>{stamp(i).strftime('%H:%M')}</time><p>{first}</p><p>{second}</p>"
            "<button>Share</button></article>"
        )
    parts.append("</main><footer>Eastham Wire</footer></body></html>")
    return "".join(parts)


def microdata_page(posts: int) -> str:
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>River works live | Eastham Wire</title>",
             "</head><body><main itemscope itemtype='https://schema.org/LiveBlogPosting'>",
             "<h1 itemprop='headline'>River works in Eastham: live</h1><ul>"]
    for i in range(posts):
        first, second = sentences(i)
        moment = stamp(i)
        parts.append(
            f"<li><div class='datebox'>{moment:%H:%M}<br>{moment:%d.%m.}</div>"
            "<div itemprop='liveBlogUpdate' itemscope itemtype='https://schema.org/BlogPosting'>"
            f"<meta itemprop='datePublished' content='{moment:%Y-%m-%dT%H:%M:%S}+02:00'>"
            f"<h2 itemprop='headline'>Update {i} from {PLACES[i % len(PLACES)]}</h2>"
            f"<div itemprop='articleBody'><p>{first}</p><p>{second}</p></div></div></li>"
        )
    parts.append("</ul></main><footer>Eastham Wire</footer></body></html>")
    return "".join(parts)


def measure(page: str, expected_posts: int) -> float:
    best = math.inf
    for _ in range(REPEATS):  # the best of a few runs: other work on the machine only adds time
        started = time.perf_counter()
        parsed = read_page(page, date=START.date())
        best = min(best, time.perf_counter() - started)
    if len(parsed.posts) != expected_posts:
        raise SystemExit(f"expected {expected_posts} posts, read {len(parsed.posts)}")
    return best


def main() -> None:
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; best of {REPEATS} runs")
    print(f"{'form':<5} {'posts':>7} {'bytes':>11} {'seconds':>9} {'posts/s':>10} {'ratio per 2x':>13}")
    for form, make in (("text", text_page), ("html", html_page), ("micro", microdata_page)):
        previous: tuple[int, float] | None = None
        for size in SIZES:
            page = make(size)
            seconds = measure(page, size)
            ratio = ""
            if previous is not None:
                factor = size / previous[0]
                ratio = f"{(seconds / previous[1]) ** (math.log(2) / math.log(factor)):.2f}"
            print(f"{form:<5} {size:>7} {len(page.encode()):>11,} {seconds:>9.3f} {size / seconds:>10,.0f} {ratio:>13}")
            previous = (size, seconds)


if __name__ == "__main__":
    main()
