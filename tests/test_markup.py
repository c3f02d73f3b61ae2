"""Hypothesis on the Markdown renderer and the sanitisers: any text is safe markup out."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from livedesk.markup import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, clean_html, clean_text, render_markdown

# Pieces of hostile markup and Markdown, mixed with arbitrary text by the strategy below.
FRAGMENTS = [
    "<script>", "</script>", "<script src=//x>", "<img src=x onerror=__xss()>", "<svg onload=__xss()>",
    "<math><mi xlink:href=javascript:__xss()>", "<iframe src=javascript:__xss()>", "<style>", "</style>",
    "<a href='javascript:__xss()'>", "<a href=\"jav&#x09;ascript:__xss()\">", "<a href=data:text/html,x>",
    "[x](javascript:__xss())", "[x](JaVaScRiPt:__xss())", "[x](&#106;avascript:x)", "[x](data:text/html;base64,PHNjcmlwdD4=)",
    "![x](javascript:__xss())", "<javascript:__xss()>", "[x]: javascript:__xss()\n", "[x][x]", "<div style=\"x\">",
    " style=", " onclick=", "\" onmouseover=\"__xss()", "' onfocus='__xss()", "<!--", "-->", "<![CDATA[", "]]>",
    "<", ">", "&", "&lt;", "&#60;", "&amp;lt;", "\x00", "\u2028", "`", "```\n", "<p", "</p>", "<table><tr><td>",
    "\n\n", "    ", "> ", "* ", "1. ", "| a | b |\n|---|---|\n", "---\n", "<form action=javascript:x>", "<base href=//x>",
    "<object data=x>", "<embed src=x>", "<meta http-equiv=refresh content=0;url=javascript:x>", "<link rel=stylesheet>",
    "<body onload=x>", "<details open ontoggle=x>", "<video><source onerror=x>", "<noscript><p title=\"</noscript><img src=x onerror=x>\">",
]
TEXT = st.one_of(
    st.text(),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)), max_size=25).map("".join),
)
SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BAD_SCHEMES = ("javascript:", "vbscript:", "data:")
BANNED_TAGS = ("<script", "<iframe", "<style", "<svg", "<math", "<object", "<embed", "<form", "<base", "<meta", "<link")


class Tags(HTMLParser):
    """Every tag and attribute as a browser's tokenizer sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag, attrs) -> None:
        self.tags.append((tag, attrs))


def problems(markup: str) -> list[str]:
    found = [t for t in BANNED_TAGS if t in markup.lower()]
    parser = Tags()
    parser.feed(markup)
    parser.close()
    for tag, attrs in parser.tags:
        if tag not in ALLOWED_TAGS:
            found.append(f"tag <{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name == "style" or name not in ALLOWED_ATTRIBUTES.get(tag, set()) | ({"rel"} if tag == "a" else set()):
                found.append(f"attribute {name} on <{tag}>")
            plain = re.sub(r"[\x00-\x20]", "", html.unescape(value or "")).lower()
            if name in ("href", "src") and plain.startswith(BAD_SCHEMES):
                found.append(f"{name}={value!r}")
    # An event handler written into a tag, whatever the parser made of it.
    found += re.findall(r"<[^>]*\son\w+\s*=", markup, flags=re.I)
    return found


@given(TEXT)
@SETTINGS
def test_markdown_renders_only_safe_markup(text: str) -> None:
    assert problems(render_markdown(text)) == []


@given(TEXT)
@SETTINGS
def test_clean_html_keeps_only_safe_markup(text: str) -> None:
    assert problems(clean_html(text)) == []


def test_attributes_outside_the_allowlist_are_dropped_on_every_tag() -> None:
    assert clean_html('<P TITLE lang="en">x</P><abbr title="t">y</abbr>') == '<p>x</p><abbr title="t">y</abbr>'


@given(TEXT)
@example("<A><OBJECT><A>")  # the dropped object held a second link inside the first
@SETTINGS
def test_clean_html_is_stable(text: str) -> None:
    once = clean_html(text)
    assert clean_html(once) == once


@given(TEXT)
@SETTINGS
def test_clean_text_is_one_line_of_plain_text(text: str) -> None:
    out = clean_text(text)
    assert out == out.strip() and not re.search(r"\s\s|[\n\r\t]", out)
    # Plain text is escaped wherever it is shown; escaped, it is inert markup.
    assert problems(html.escape(out)) == []


def test_examples_keep_their_meaning() -> None:
    assert render_markdown("**Ferry** resumes [schedule](https://example.org/s)") == (
        '<p><strong>Ferry</strong> resumes <a href="https://example.org/s" rel="noopener noreferrer nofollow">'
        "schedule</a></p>\n"
    )
    assert "href" not in render_markdown("[x](javascript:alert(1))")
    assert clean_html('<p onclick="x()">Quay <script>x()</script>open</p>') == "<p>Quay open</p>"
    assert clean_text("  <b>Harbour</b>\n  pilot &amp; crew ") == "Harbour pilot & crew"
    assert clean_text(None) is None
