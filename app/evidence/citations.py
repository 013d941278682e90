"""References to evaluations: a readable citation, BibTeX, RIS and CSL-JSON.

Pure functions over :class:`~app.evidence.models.Evaluation` rows or content dicts (the
shape of ``app.evidence.content``: ``title``, ``authors``, ``year``, ``venue``, ``doi``,
``url``, and optionally ``id``). Authors are stored as written in a citation, one per item:
``"Family, Given"``, or a single name without a comma (an organisation, or a person known by
one name), which every format keeps as one literal name.

- :func:`cite_text`: an APA-like reference, "Weber, A., & Costa, R. (2021). Title. Venue.
  https://doi.org/10.1234/abc".
- :func:`to_bibtex`: ``@article`` when a journal or publisher is given, else ``@misc``; keys
  are ASCII, ``familyYEARword``, made unique within one file with ``a``, ``b``, ...
  LaTeX's special characters are escaped in every text field; ``doi`` and ``url`` are
  verbatim fields for biblatex, so only the characters that would break the file's braces
  are percent-encoded there.
- :func:`to_ris`: one record per evaluation, ``TY  - JOUR`` or ``GEN``, lines ending in CRLF
  as the RIS specification asks.
- :func:`to_csl_json`: a list of CSL-JSON items (what Zotero, Pandoc and citeproc read);
  each ``id`` equals the BibTeX key, so both exports cite the same way.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from app.evidence.models import Evaluation

DOI_RESOLVER = "https://doi.org/"
# Three authors or more are separated by commas; APA lists up to 20, then an ellipsis.
APA_MAX_AUTHORS = 20
# Words skipped when a BibTeX key takes the first word of the title.
_KEY_STOPWORDS = frozenset(
    {"a", "an", "the", "of", "on", "in", "for", "and", "to", "with", "from", "at", "by"}
    | {"is", "are", "do", "does", "how", "what", "why"}
)


@dataclass(frozen=True)
class Name:
    """One author: a person (family and given names) or a literal name (an organisation)."""

    family: str = ""
    given: str = ""
    literal: str = ""

    @property
    def is_literal(self) -> bool:
        return bool(self.literal)


@dataclass(frozen=True)
class Reference:
    """What every format needs of an evaluation."""

    id: int | None
    title: str
    authors: tuple[Name, ...]
    year: int | None
    venue: str
    doi: str
    url: str


def parse_name(text: str) -> Name:
    """``"Family, Given"`` as a person; a name without a comma as a literal name.

    Only the first comma separates the family name, so "Smith, Jr., John" keeps "Jr., John"
    as the given part rather than losing it.
    """
    cleaned = " ".join(text.split())
    family, comma, given = cleaned.partition(",")
    family, given = family.strip(), given.strip()
    if not comma or not family:
        return Name(literal=cleaned.strip(" ,"))
    if not given:
        return Name(literal=family)
    return Name(family=family, given=given)


def reference(item: Evaluation | Mapping[str, Any]) -> Reference:
    """The citation data of an evaluation row or a content dict."""
    if isinstance(item, Evaluation):
        data: Mapping[str, Any] = {
            "id": item.id,
            "title": item.title,
            "authors": item.authors,
            "year": item.year,
            "venue": item.venue,
            "doi": item.doi,
            "url": item.url,
        }
    else:
        data = item
    raw_id = data.get("id")
    year = data.get("year")
    return Reference(
        id=raw_id if isinstance(raw_id, int) and not isinstance(raw_id, bool) else None,
        title=_clean(data.get("title")),
        authors=tuple(
            name
            for name in (parse_name(str(author)) for author in data.get("authors") or [])
            if name.family or name.literal
        ),
        year=year if isinstance(year, int) and not isinstance(year, bool) and year > 0 else None,
        venue=_clean(data.get("venue")),
        doi=_clean(data.get("doi")),
        url=_clean(data.get("url")),
    )


def _clean(value: Any) -> str:
    return "" if value is None else " ".join(str(value).split())


def doi_url(doi: str) -> str:
    return DOI_RESOLVER + doi if doi else ""


# --- the readable reference ----------------------------------------------------------------


def _initials(given: str) -> str:
    """APA initials: "Anna Maria" -> "A. M.", "Jean-Paul" -> "J.-P.", "J. R." stays."""
    parts = []
    for word in given.replace(".", ". ").split():
        pieces = [piece for piece in word.split("-") if piece]
        initials = [piece[0].upper() + "." for piece in pieces if piece[0].isalpha()]
        if initials:
            parts.append("-".join(initials))
    return " ".join(parts)


def _apa_name(name: Name) -> str:
    if name.is_literal:
        return name.literal
    initials = _initials(name.given)
    return f"{name.family}, {initials}" if initials else name.family


def _apa_authors(names: tuple[Name, ...]) -> str:
    written = [_apa_name(name) for name in names]
    if not written:
        return ""
    if len(written) == 1:
        return written[0]
    if len(written) > APA_MAX_AUTHORS:
        return ", ".join(written[: APA_MAX_AUTHORS - 1]) + ", . . . " + written[-1]
    return ", ".join(written[:-1]) + ", & " + written[-1]


def _sentence(text: str) -> str:
    """``text`` ending with a full stop (unless it ends in one already, or ? or !)."""
    text = text.strip()
    if not text:
        return ""
    return text if text[-1] in ".?!" else text + "."


def cite_text(evaluation: Evaluation | Mapping[str, Any]) -> str:
    """An APA-like reference in plain text.

    "Weber, A., & Costa, R. (2021). Title. Journal of Prevention Studies.
    https://doi.org/10.1234/jps.2021.77" -- the DOI's link when there is one, else the web
    address. Without authors, the title moves to the front, as APA does.
    """
    ref = reference(evaluation)
    year = f"({ref.year})." if ref.year else "(n.d.)."
    authors = _apa_authors(ref.authors)
    parts = (
        [_sentence(authors), year, _sentence(ref.title)]
        if authors
        else [_sentence(ref.title), year]
    )
    if ref.venue:
        parts.append(_sentence(ref.venue))
    link = doi_url(ref.doi) or ref.url
    if link:
        parts.append(link)
    return " ".join(part for part in parts if part)


# --- citation keys ---------------------------------------------------------------------------


def _ascii_word(text: str) -> str:
    """Lower-case ASCII letters and digits of ``text`` (accents dropped: "Müller" -> "muller")."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]", "", folded.lower())


def _key_base(ref: Reference) -> str:
    first = ref.authors[0] if ref.authors else None
    if first is None:
        family = "anon"
    elif first.is_literal:
        words = [_ascii_word(word) for word in first.literal.split()]
        family = next((word for word in words if word and word not in _KEY_STOPWORDS), "")
    else:
        # The last word of the family name: "van der Berg" -> "berg", as most tools do.
        words = [_ascii_word(word) for word in first.family.split()]
        family = next((word for word in reversed(words) if word), "")
    family = family or "anon"
    title_words = [_ascii_word(word) for word in re.split(r"[\s\-/]+", ref.title)]
    word = next((w for w in title_words if w and w not in _KEY_STOPWORDS), "")
    return f"{family}{ref.year or ''}{word}"


def _suffix(number: int) -> str:
    """1 -> "a", 26 -> "z", 27 -> "aa", ... (bijective base 26)."""
    letters = ""
    while number > 0:
        number, remainder = divmod(number - 1, 26)
        letters = chr(ord("a") + remainder) + letters
    return letters


def citation_keys(refs: Iterable[Reference]) -> list[str]:
    """A unique ASCII key per reference, in order: "weber2021trial", "weber2021triala", ..."""
    keys: list[str] = []
    used: set[str] = set()
    for ref in refs:
        base = _key_base(ref)
        key, number = base, 0
        while key in used:
            number += 1
            key = base + _suffix(number)
        used.add(key)
        keys.append(key)
    return keys


def citation_key(evaluation: Evaluation | Mapping[str, Any]) -> str:
    return citation_keys([reference(evaluation)])[0]


# --- BibTeX --------------------------------------------------------------------------------

_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "%": r"\%",
    "&": r"\&",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
# Characters that cannot stand as they are in a verbatim field delimited by braces.
_VERBATIM_UNSAFE = {"{": "%7B", "}": "%7D", "\\": "%5C"}
_AND_WORD = re.compile(r"(?i)(^|\s)and(\s|$)")


def escape_latex(text: str) -> str:
    """``text`` with LaTeX's special characters written as commands (one pass, so the
    braces of ``\\textbackslash{}`` are not escaped again)."""
    return "".join(_LATEX_SPECIALS.get(char, char) for char in text)


def _verbatim(text: str) -> str:
    return "".join(_VERBATIM_UNSAFE.get(char, char) for char in text)


def _protect_and(part: str) -> str:
    """A name part containing the word "and" in braces, so BibTeX does not split there."""
    return "{" + part + "}" if _AND_WORD.search(part) else part


def _bibtex_name(name: Name) -> str:
    if name.is_literal:
        # Braces make BibTeX take the whole name as one family name, never split it.
        return "{" + escape_latex(name.literal) + "}"
    family = _protect_and(escape_latex(name.family))
    given = _protect_and(escape_latex(name.given))
    return f"{family}, {given}"


def bibtex_entry(ref: Reference, key: str) -> str:
    entry_type = "article" if ref.venue else "misc"
    fields: list[tuple[str, str]] = []
    if ref.authors:
        fields.append(("author", " and ".join(_bibtex_name(name) for name in ref.authors)))
    # The extra braces keep the title's capitals (names, acronyms) in every style.
    fields.append(("title", "{" + escape_latex(ref.title) + "}"))
    if ref.venue:
        fields.append(("journal", escape_latex(ref.venue)))
    if ref.year:
        fields.append(("year", str(ref.year)))
    if ref.doi:
        fields.append(("doi", _verbatim(ref.doi)))
    if ref.url:
        fields.append(("url", _verbatim(ref.url)))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@{entry_type}{{{key},\n{body}\n}}\n"


def to_bibtex(evaluations: Iterable[Evaluation | Mapping[str, Any]]) -> str:
    """A BibTeX file (UTF-8 text) with one entry per evaluation, keys unique in the file."""
    refs = [reference(item) for item in evaluations]
    keys = citation_keys(refs)
    return "\n".join(bibtex_entry(ref, key) for ref, key in zip(refs, keys, strict=True))


# --- RIS -----------------------------------------------------------------------------------

RIS_NEWLINE = "\r\n"


def _ris_line(tag: str, value: str = "") -> str:
    # "TY  - JOUR": the tag, two spaces, a hyphen, a space, then the value on one line.
    return f"{tag}  - {value}{RIS_NEWLINE}"


def _ris_name(name: Name) -> str:
    return name.literal if name.is_literal else f"{name.family}, {name.given}"


def ris_record(ref: Reference) -> str:
    lines = [_ris_line("TY", "JOUR" if ref.venue else "GEN")]
    lines += [_ris_line("AU", _ris_name(name)) for name in ref.authors]
    if ref.year:
        lines.append(_ris_line("PY", str(ref.year)))
    lines.append(_ris_line("TI", ref.title))
    if ref.venue:
        lines.append(_ris_line("T2", ref.venue))
        lines.append(_ris_line("JO", ref.venue))
    if ref.doi:
        lines.append(_ris_line("DO", ref.doi))
    link = ref.url or doi_url(ref.doi)
    if link:
        lines.append(_ris_line("UR", link))
    lines.append(_ris_line("ER"))
    return "".join(lines)


def to_ris(evaluations: Iterable[Evaluation | Mapping[str, Any]]) -> str:
    """An RIS file: one record per evaluation, CRLF line ends, a blank line between records."""
    return RIS_NEWLINE.join(ris_record(reference(item)) for item in evaluations)


# --- CSL-JSON ------------------------------------------------------------------------------


def _csl_name(name: Name) -> dict[str, str]:
    if name.is_literal:
        return {"literal": name.literal}
    return {"family": name.family, "given": name.given}


def csl_item(ref: Reference, key: str) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": key,
        "type": "article-journal" if ref.venue else "report",
        "title": ref.title,
        "author": [_csl_name(name) for name in ref.authors],
    }
    if ref.year:
        item["issued"] = {"date-parts": [[ref.year]]}
    if ref.venue:
        item["container-title"] = ref.venue
    if ref.doi:
        item["DOI"] = ref.doi
    if ref.url:
        item["URL"] = ref.url
    return item


def to_csl_json(evaluations: Iterable[Evaluation | Mapping[str, Any]]) -> list[dict[str, Any]]:
    """CSL-JSON items (serialise with ``json.dumps``); ids are the BibTeX keys."""
    refs = [reference(item) for item in evaluations]
    keys = citation_keys(refs)
    return [csl_item(ref, key) for ref, key in zip(refs, keys, strict=True)]
