"""schema.org LiveBlogPosting for an event page, and the absolute URLs that it and the feeds give."""

from __future__ import annotations

from livedesk.markup import html_to_text
from livedesk.model import EventStatus
from livedesk.web.render import post_title


def absolute(base_url: str, url: str | None) -> str | None:
    if not url:
        return None
    return url if url.startswith(("http://", "https://")) else base_url.rstrip("/") + url


def post_url(base_url: str, post: dict) -> str:
    return f"{base_url.rstrip('/')}/e/{post['event']}#post-{post['id']}"


def images(post: dict) -> list[dict]:
    return [m for m in post.get("media") or [] if m.get("kind") == "image" and m.get("url")]


LOGO = "/static/logo.svg"


def live_blog_jsonld(event: dict, posts: list[dict], base_url: str, site_name: str = "livedesk") -> dict:
    """schema.org LiveBlogPosting for an event page, one BlogPosting per post shown: written and
    published by the site, about the event it covers."""
    page_url = f"{base_url.rstrip('/')}/e/{event['slug']}"
    site = {"@type": "NewsMediaOrganization", "name": site_name, "url": base_url.rstrip("/") + "/",
            "logo": {"@type": "ImageObject", "url": absolute(base_url, LOGO)}}
    data = {
        "@context": "https://schema.org",
        "@type": "LiveBlogPosting",
        "@id": page_url,
        "url": page_url,
        "headline": event["title"],
        "description": event.get("standfirst") or event["title"],
        "coverageStartTime": event.get("coverage_start") or event["created_at"],
        "datePublished": event["created_at"],
        "dateModified": event["updated_at"],
        "author": site,
        "publisher": site,
        "about": {"@type": "Event", "name": event["title"], "startDate": event.get("coverage_start") or event["created_at"],
                  "description": event.get("standfirst") or event["title"]},
        "liveBlogUpdate": [],
    }
    if event["status"] == EventStatus.ended:
        data["coverageEndTime"] = event.get("coverage_end") or event["updated_at"]
        data["about"]["endDate"] = data["coverageEndTime"]
    lead = event.get("lead_media") or {}
    if lead.get("url") and lead.get("kind", "image") == "image":
        data["image"] = absolute(base_url, lead["url"])
    for post in posts:
        update = {
            "@type": "BlogPosting",
            "headline": post_title(post, 110),
            "articleBody": html_to_text(post.get("body_html") or ""),
            "datePublished": post["published_at"],
            "dateModified": post.get("corrected_at") or post["updated_at"],
            "url": post_url(base_url, post),
        }
        pictures = [absolute(base_url, m["url"]) for m in images(post)]
        if pictures:
            update["image"] = pictures if len(pictures) > 1 else pictures[0]
        if post.get("authors"):
            update["author"] = [{"@type": "Person", "name": name} for name in post["authors"]]
        elif post.get("outlet"):
            update["author"] = {"@type": "Organization", "name": post["outlet"]["name"]}
        data["liveBlogUpdate"].append(update)
    return data
