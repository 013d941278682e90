"""Programme descriptions in Markdown: rendered as the author meant, inert for an attacker."""

from __future__ import annotations

import time
from html.parser import HTMLParser

import pytest
from markupsafe import Markup, escape

from app.programmes.markdown import ALLOWED_TAGS, plain_text, render_markdown

LINK_REL = "nofollow noopener noreferrer"


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser.elements


def text_of(html: str) -> str:
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return "".join(parser.text).strip()


def tags(html: str) -> list[str]:
    return [tag for tag, _attrs in elements(html)]


def links(html: str) -> list[dict[str, str | None]]:
    return [attrs for tag, attrs in elements(html) if tag == "a"]


def assert_only_safe_markup(html: str) -> None:
    """Every element is on the allow-list; the only attributes are safe hrefs and list starts."""
    for tag, attrs in elements(html):
        assert tag in ALLOWED_TAGS, tag
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            if tag == "a" and name == "href":
                assert value is not None
                assert value.lower().startswith(("http://", "https://", "mailto:")), value
            elif tag == "a" and name == "rel":
                assert value == LINK_REL
            elif tag == "ol" and name == "start":
                assert value is not None
                assert value.isdigit()
            else:
                pytest.fail(f"unexpected attribute {name}={value!r} on <{tag}>")


# What the author means ------------------------------------------------------------------


def test_returns_markup_so_templates_do_not_escape_it_again() -> None:
    html = render_markdown("Plain **words**")

    assert isinstance(html, Markup)
    assert html == Markup("<p>Plain <strong>words</strong></p>\n")
    assert escape(html) == html


@pytest.mark.parametrize("text", ["", "   ", "\n\n\t"])
def test_empty_input_renders_nothing(text: str) -> None:
    assert render_markdown(text) == Markup("")


def test_emphasis_code_quote_rule_and_strikethrough() -> None:
    html = render_markdown(
        "*soft* and **strong** and `x < y` and ~~gone~~\n\n> quoted\n\n---\n\n"
        "```python\nif a < b:\n    print('<b>')\n```\n\nline one  \nline two"
    )

    assert "<em>soft</em>" in html
    assert "<strong>strong</strong>" in html
    assert "<code>x &lt; y</code>" in html
    assert "<del>gone</del>" in html
    assert "<blockquote>\n<p>quoted</p>\n</blockquote>" in html
    assert "<hr>" in html
    # The fence's language class is not on the allow-list; the code stays escaped text.
    assert "<pre><code>if a &lt; b:\n    print('&lt;b&gt;')\n</code></pre>" in html
    assert "line one<br>" in html
    assert_only_safe_markup(html)


def test_headings_are_shifted_below_the_pages_own_h1() -> None:
    html = render_markdown(
        "# One\n\n## Two\n\n### Three\n\n#### Four\n\n##### Five\n\n###### Six\n\nSetext\n======\n"
    )

    assert tags(html) == ["h2", "h3", "h4", "h5", "h6", "h6", "h2"]
    assert "<h2>One</h2>" in html
    assert "<h6>Six</h6>" in html
    assert "<h1" not in html


def test_tables_render_without_inline_style() -> None:
    html = render_markdown(
        "| Age | Group |\n|:---|---:|\n| 6-12 | children |\n| adults | *parents* |\n"
    )

    assert tags(html) == [
        *("table", "thead", "tr", "th", "th"),
        *("tbody", "tr", "td", "td", "tr", "td", "td", "em"),
    ]
    assert "<em>parents</em>" in html
    # Column alignment would be a style attribute, which the content security policy and the
    # sanitiser both refuse.
    assert "style" not in html
    assert_only_safe_markup(html)


def test_nested_lists_keep_their_structure_and_numbering() -> None:
    html = render_markdown(
        "3. first\n4. second\n   - inner a\n   - inner b\n     1. deep\n5. third\n"
    )

    assert tags(html) == ["ol", "li", "li", "ul", "li", "li", "ol", "li", "li"]
    assert elements(html)[0] == ("ol", {"start": "3"})
    assert_only_safe_markup(html)


def test_links_open_elsewhere_without_passing_on_the_portal() -> None:
    html = render_markdown(
        'See [the manual](https://example.org/manual?a=1&b=2 "Manual") '
        "or [write](mailto:team@example.org) or [plain](http://example.net)."
    )

    assert links(html) == [
        {"href": "https://example.org/manual?a=1&b=2", "rel": LINK_REL},
        {"href": "mailto:team@example.org", "rel": LINK_REL},
        {"href": "http://example.net", "rel": LINK_REL},
    ]
    assert text_of(html) == "See the manual or write or plain."
    assert_only_safe_markup(html)


def test_autolinks_for_web_addresses_and_email() -> None:
    html = render_markdown("<https://example.org/a> and <team@example.org>")

    assert links(html) == [
        {"href": "https://example.org/a", "rel": LINK_REL},
        {"href": "mailto:team@example.org", "rel": LINK_REL},
    ]


def test_reference_links_work() -> None:
    html = render_markdown("Read [the study][1].\n\n[1]: https://example.org/study\n")

    assert links(html) == [{"href": "https://example.org/study", "rel": LINK_REL}]
    assert text_of(html) == "Read the study."


def test_relative_links_lose_their_link_but_keep_their_text() -> None:
    html = render_markdown("[other programme](/programmes/12) and [anchor](#top)")

    assert links(html) == []
    assert text_of(html) == "other programme and anchor"


# What an attacker tries -----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "before <script>alert(1)</script> after",
        "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
        '<iframe src="https://evil.example"></iframe>',
        "<img src=x onerror=alert(1)>",
        '<p onclick="alert(1)">hi</p>',
        '<a href="javascript:alert(1)">x</a>',
        '<div style="background:url(javascript:alert(1))">x</div>',
        '<object data="x.swf"></object><embed src="x">',
        "<svg onload=alert(1)>",
        "<style>body{display:none}</style>",
        "<!-- comment --><b>bold</b>",
        "<details open ontoggle=alert(1)>",
        'text <span onmouseover="alert(1)">x</span>',
    ],
)
def test_raw_html_is_shown_as_text_never_as_markup(text: str) -> None:
    html = render_markdown(text)

    assert_only_safe_markup(html)
    assert tags(html) == ["p"]
    # The author sees what they typed, character for character.
    assert text_of(html) == text


def test_raw_html_blocks_are_text() -> None:
    text = "<div>\n<script>alert(1)</script>\n<iframe src=x></iframe>\n</div>\n\nAfter."
    html = render_markdown(text)

    assert_only_safe_markup(html)
    assert "<script" not in html
    assert "<iframe" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<p>After.</p>" in html


@pytest.mark.parametrize(
    "destination",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "  javascript:alert(1)",
        "<java\tscript:alert(1)>",
        "<javascript\n:alert(1)>",
        "&#106;avascript:alert(1)",
        "&#x6A;&#x61;vascript&#x3A;alert(1)",
        "javascript&colon;alert(1)",
        "jav&#x09;ascript:alert(1)",
        "%6Aavascript:alert(1)",
        "\\javascript:alert(1)",
        "vbscript:msgbox(1)",
        "VBScript:msgbox(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "DATA:text/html,<script>alert(1)</script>",
        "file:///etc/passwd",
        "//evil.example/x",
        "ftp://example.org/file",
    ],
)
def test_unsafe_links_keep_their_text_but_lose_the_link(destination: str) -> None:
    html = render_markdown(f"Click [here]({destination}) now")

    assert_only_safe_markup(html)
    assert links(html) == []
    assert "here" in text_of(html)
    lowered = html.lower()
    for scheme in ("javascript:", "vbscript:", "data:", "file:"):
        assert f'href="{scheme}' not in lowered


@pytest.mark.parametrize(
    "text",
    [
        "<javascript:alert(1)>",
        "<JAVASCRIPT:alert(1)>",
        "<vbscript:msgbox(1)>",
        "<data:text/html,hi>",
        "[x][bad]\n\n[bad]: javascript:alert(1)\n",
        "[x][bad]\n\n[bad]: <data:text/html,hi>\n",
    ],
)
def test_unsafe_autolinks_and_references_are_inert(text: str) -> None:
    html = render_markdown(text)

    assert_only_safe_markup(html)
    assert links(html) == []


def test_link_titles_cannot_break_out_into_attributes() -> None:
    html = render_markdown(
        '[x](https://example.org "a\\" onmouseover=\\"alert(1)") '
        '[y](<https://example.org/"onclick="alert(1)>)'
    )

    assert_only_safe_markup(html)
    assert [link["href"] for link in links(html)] == [
        "https://example.org",
        "https://example.org/%22onclick=%22alert(1)",
    ]


@pytest.mark.parametrize(
    ("text", "alt"),
    [
        ("![A *happy* child](https://tracker.example/pixel.png)", "A happy child"),
        ("![logo](data:image/svg+xml;base64,PHN2Zz4=)", "logo"),
        ("![x](javascript:alert(1))", "x"),
        ("![ref][img]\n\n[img]: https://tracker.example/p.gif", "ref"),
        ("[![badge](https://img.example/b.svg)](https://example.org)", "badge"),
        ("![](https://tracker.example/pixel.png)", ""),
    ],
)
def test_images_become_their_alternative_text(text: str, alt: str) -> None:
    html = render_markdown(text)

    assert "<img" not in html
    assert "tracker.example" not in html
    assert "img.example" not in html
    assert text_of(html) == alt
    assert_only_safe_markup(html)


def test_image_wrapped_in_a_safe_link_keeps_the_link() -> None:
    html = render_markdown("[![badge](https://img.example/b.svg)](https://example.org)")

    assert links(html) == [{"href": "https://example.org", "rel": LINK_REL}]


def test_html_entities_are_not_turned_into_markup() -> None:
    html = render_markdown("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#60;b&#62;")

    assert tags(html) == ["p"]
    assert text_of(html) == "<script>alert(1)</script> & <b>"


def test_null_bytes_and_control_characters_do_not_smuggle_markup() -> None:
    html = render_markdown("<scr\x00ipt>alert(1)</script> [a](java\x00script:alert(1))")

    assert_only_safe_markup(html)
    assert "<scr" not in html
    assert links(html) == []


def test_deep_nesting_is_bounded() -> None:
    html = render_markdown("> " * 5000 + "deep\n\n" + "- " * 5000 + "deep")

    assert_only_safe_markup(html)


@pytest.mark.parametrize(
    "text",
    [
        ("Some **bold** text with [a link](https://example.org) and `code`.\n\n") * 3000,
        "[" * 50_000,
        "*a" * 25_000,
        "[a](" * 12_500,
        "<a" * 25_000,
        "|a|b|\n|-|-|\n" + "|x|y|\n" * 5_000,
    ],
    ids=["200kb-prose", "brackets", "emphasis", "open-links", "open-tags", "long-table"],
)
def test_long_and_pathological_input_renders_in_reasonable_time(text: str) -> None:
    started = time.perf_counter()
    html = render_markdown(text)
    elapsed = time.perf_counter() - started

    assert html
    assert_only_safe_markup(html[:20_000].rsplit("<", 1)[0])
    # Loose: the point is that nothing explodes quadratically (a shared CI machine is slow).
    assert elapsed < 10, elapsed


# Plain text for summaries and snippets --------------------------------------------------


def test_plain_text_drops_markup_and_keeps_words() -> None:
    text = (
        "# Stop it Now\n\nA *helpline* for [parents](https://example.org) and `carers`.\n\n"
        "- one\n- two\n\n![diagram](https://x.example/d.png)\n\n<b>raw</b>"
    )

    assert plain_text(text) == (
        "Stop it Now A helpline for parents and carers. one two diagram <b>raw</b>"
    )


def test_plain_text_shortens_on_a_word_boundary() -> None:
    text = "Families learn to talk about bodies, boundaries and secrets."

    snippet = plain_text(text, limit=30)

    assert snippet == "Families learn to talk about…"
    assert len(snippet) <= 30


def test_plain_text_within_the_limit_is_unchanged() -> None:
    assert plain_text("**Short**", limit=30) == "Short"
    assert plain_text("", limit=10) == ""


def test_plain_text_cuts_a_long_word_when_there_is_no_space() -> None:
    snippet = plain_text("x" * 100, limit=10)

    assert snippet == "x" * 9 + "…"
