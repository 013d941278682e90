"""Markdown of programme descriptions, rendered to HTML that is safe to show to anyone.

Two layers: markdown-it renders CommonMark with raw HTML turned off (so ``<script>`` comes out
as text), rewrites the token stream (headings one level down, images become their alt text,
links to anything but http, https and mailto lose their link but keep their text); then nh3
sanitises the HTML against an explicit allow-list, so a mistake in the first layer cannot let
markup through that the second one does not know.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markupsafe import Markup

ALLOWED_TAGS: Final = frozenset(
    {
        "p",
        "br",
        "strong",
        "em",
        "del",
        "ul",
        "ol",
        "li",
        "blockquote",
        "code",
        "pre",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "a",
        "hr",
    }
)
# "*" is given explicitly: otherwise nh3 keeps its default "lang" and "title" on every tag.
ALLOWED_ATTRIBUTES: Final = {"*": set[str](), "a": {"href"}, "ol": {"start"}}
ALLOWED_URL_SCHEMES: Final = frozenset({"http", "https", "mailto"})
LINK_REL: Final = "nofollow noopener noreferrer"

# Compared with the href markdown-it produced (entities decoded, then percent-encoded), so
# "JaVaScRiPt:", "java\tscript:" (now "java%09script:") and "&#106;avascript:" never match.
_ALLOWED_HREF = re.compile(r"(?:https?://|mailto:)", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")
# Descriptions are rendered on every view of their page; rendering is the costly part (pure
# Python), so recent short texts are kept. Long texts are not, to bound the cache's memory.
_CACHED_TEXT_LENGTH = 32 * 1024


def _is_allowed_href(href: str) -> bool:
    return _ALLOWED_HREF.match(href) is not None


class _PortalMarkdown(MarkdownIt):
    """CommonMark whose links are all parsed, so unsafe ones can be unlinked, not shown raw."""

    def validateLink(self, url: str) -> bool:
        # markdown-it would leave "[text](javascript:...)" as literal source; accepting every
        # destination here lets _make_safe drop the link and keep only its text.
        return True


def _inline_text(children: list[Token]) -> str:
    parts: list[str] = []
    for child in children:
        if child.type in {"text", "code_inline"}:
            parts.append(child.content)
        elif child.type == "image":
            parts.append(_inline_text(child.children or []))
        elif child.type in {"softbreak", "hardbreak"}:
            parts.append(" ")
    return "".join(parts)


def _safe_inline(children: list[Token]) -> list[Token]:
    result: list[Token] = []
    dropping_link = False
    for token in children:
        if token.type == "link_open":
            href = token.attrGet("href")
            if not isinstance(href, str) or not _is_allowed_href(href):
                dropping_link = True
                continue
        elif token.type == "link_close" and dropping_link:
            # CommonMark links cannot nest, so the next close belongs to the dropped open.
            dropping_link = False
            continue
        elif token.type == "image":
            # No remote images: an image is replaced by its alternative text.
            text = Token("text", "", 0)
            text.content = _inline_text(token.children or [])
            result.append(text)
            continue
        elif token.type in {"s_open", "s_close"}:
            token.tag = "del"
        result.append(token)
    return result


def _make_safe(state: StateCore) -> None:
    """Shift headings below the page's h1, unlink unsafe links, replace images by their alt."""
    for token in state.tokens:
        if token.type in {"heading_open", "heading_close"}:
            level = int(token.tag[1:])
            token.tag = f"h{min(level + 1, 6)}"
        elif token.type == "inline" and token.children:
            token.children = _safe_inline(token.children)


def _build_parser() -> MarkdownIt:
    md = _PortalMarkdown("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.core.ruler.push("portal_make_safe", _make_safe)
    return md


_PARSER: Final = _build_parser()


def render_markdown(text: str) -> Markup:
    """Render Markdown to sanitised HTML: no raw HTML, images, scripts or unsafe links."""
    if not text or not text.strip():
        return Markup("")
    if len(text) <= _CACHED_TEXT_LENGTH:
        return Markup(_render_cached(text))  # noqa: S704 (sanitised in _render)
    return Markup(_render(text))  # noqa: S704 (sanitised in _render)


@lru_cache(maxsize=256)
def _render_cached(text: str) -> str:
    return _render(text)


def _render(text: str) -> str:
    html = _PARSER.render(text)
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags={"script", "style"},
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_URL_SCHEMES),
        url_relative="deny",
        link_rel=LINK_REL,
        strip_comments=True,
    )


def plain_text(text: str, limit: int | None = None) -> str:
    """The words of a Markdown text without its markup, shortened to ``limit`` characters."""
    if not text:
        return ""
    pieces: list[str] = []
    for token in _PARSER.parse(text):
        if token.type == "inline" and token.children is not None:
            pieces.append(_inline_text(token.children))
        elif token.type in {"fence", "code_block"}:
            pieces.append(token.content)
    words = _WHITESPACE.sub(" ", " ".join(pieces)).strip()
    if limit is None or len(words) <= limit:
        return words
    if limit <= 1:
        return "…"[:limit]
    cut = words[: limit - 1]
    # End on a whole word unless that would throw away most of the snippet.
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" .,;:-\u2013\u2014") + "…"
