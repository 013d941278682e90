"""Full-text matching, one back end per database, behind one interface.

Both receive the same parsed query (:class:`Terms`: folded words, the last one possibly a
prefix while the user is still typing) and answer with the matching document ids and a
score (higher is better). Nothing the user typed reaches the database as syntax: words are
letters and digits only, quoted for FTS5 and joined by ``&`` for PostgreSQL, so operators,
quotes, brackets or ``NEAR`` in a query are just characters that are not words.

- SQLite: FTS5 with ``unicode61 remove_diacritics 2``; English parts go to a table with the
  Porter stemmer, every other language to one without (SQLite has no other stemmer).
  Two lookups in the kind's range of rowids: every word anywhere, every word in the title.
- PostgreSQL: a ``tsvector`` per document (table ``search_text``), each part built with
  the text search configuration of its language (``simple`` where PostgreSQL has none); the query is
  stemmed in every configuration and the alternatives joined, so "Eltern" finds German
  text and "parents" English text whatever the reader's language. A second ``tsvector``
  of the title alone tells whether the title has every word. Partial indexes per kind.

The score is the same on both: 2 when the title has every word, 1 otherwise. The service
orders equal scores by strength of evidence, then by date, so both back ends rank alike.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, bindparam, text

from app.search.documents import Document, fold
from app.search.models import KINDS, id_range

MAX_QUERY_CHARS = 500
MAX_WORDS = 16
_WORD = re.compile(r"[^\W_]+")

# PostgreSQL text search configurations by language code (others use "simple").
PG_CONFIGS = {
    "ca": "catalan",
    "da": "danish",
    "de": "german",
    "el": "greek",
    "en": "english",
    "es": "spanish",
    "fi": "finnish",
    "fr": "french",
    "ga": "irish",
    "hu": "hungarian",
    "it": "italian",
    "lt": "lithuanian",
    "nl": "dutch",
    "pt": "portuguese",
    "ro": "romanian",
    "sv": "swedish",
}
_PG_SLOTS = 4


@dataclass(frozen=True)
class Terms:
    """A query as words: folded, at most :data:`MAX_WORDS`, the last maybe a prefix."""

    words: tuple[str, ...]
    prefix: bool = False

    @classmethod
    def parse(cls, query: str) -> Terms:
        words = tuple(_WORD.findall(fold(query[:MAX_QUERY_CHARS])))[:MAX_WORDS]
        # While typing, the last word is a prefix ("groo" finds "grooming").
        prefix = bool(words) and not query[-1:].isspace() and len(words[-1]) >= 2
        return cls(words=words, prefix=prefix)

    def __bool__(self) -> bool:
        return bool(self.words)


Ids = NDArray[np.int64]
Scores = NDArray[np.float64]


class TextBackend(Protocol):
    def write(self, connection: Connection, documents: Sequence[tuple[int, Document]]) -> None:
        """Replace the indexed text of these documents (id, document)."""

    def remove(self, connection: Connection, ids: Sequence[int]) -> None:
        """Forget the text of these documents."""

    def clear(self, connection: Connection) -> None:
        """Forget every document's text."""

    def match(self, connection: Connection, terms: Terms, kind: str) -> tuple[Ids, Scores]:
        """Ids of the documents of ``kind`` with every word, and their scores: 2 when the
        title has every word, else 1."""


def _title_and_body(parts: Sequence[tuple[str, str]]) -> tuple[str, str]:
    return "\n".join(t for t, _ in parts if t), "\n".join(b for _, b in parts if b)


class SqliteBackend:
    TABLES = ("search_fts_en", "search_fts")

    def write(self, connection: Connection, documents: Sequence[tuple[int, Document]]) -> None:
        self.remove(connection, [doc_id for doc_id, _ in documents])
        rows: dict[str, list[dict[str, object]]] = {table: [] for table in self.TABLES}
        for doc_id, document in documents:
            split: dict[str, list[tuple[str, str]]] = defaultdict(list)
            for part in document.parts:
                table = "search_fts_en" if part.language == "en" else "search_fts"
                split[table].append((fold(part.title), fold(part.body)))
            for table, parts in split.items():
                title, body = _title_and_body(parts)
                rows[table].append({"id": doc_id, "title": title, "body": body})
        for table, values in rows.items():
            if values:
                connection.execute(
                    text(f"INSERT INTO {table} (rowid, title, body) VALUES (:id, :title, :body)"),  # noqa: S608
                    values,
                )

    def remove(self, connection: Connection, ids: Sequence[int]) -> None:
        if not ids:
            return
        for table in self.TABLES:
            connection.execute(
                text(f"DELETE FROM {table} WHERE rowid IN :ids").bindparams(  # noqa: S608
                    bindparam("ids", expanding=True)
                ),
                {"ids": list(ids)},
            )

    def clear(self, connection: Connection) -> None:
        for table in self.TABLES:
            connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608

    def match(self, connection: Connection, terms: Terms, kind: str) -> tuple[Ids, Scores]:
        words = [f'"{word}"' for word in terms.words]
        if terms.prefix:
            words[-1] += "*"
        low, high = id_range(kind)
        # The DB-API connection directly: rows arrive as plain tuples, fast for many matches.
        raw = connection.connection.driver_connection
        matches = raw.execute(  # type: ignore[union-attr]
            "SELECT rowid FROM search_fts_en WHERE search_fts_en MATCH ? AND rowid BETWEEN ? AND ? "
            "UNION ALL SELECT rowid FROM search_fts WHERE search_fts MATCH ? "
            "AND rowid BETWEEN ? AND ?",
            (" ".join(words), low, high, " ".join(words), low, high),
        ).fetchall()
        if not matches:
            return np.empty(0, np.int64), np.empty(0, np.float64)
        titled = " ".join(f"title : {word}" for word in words)
        in_title = raw.execute(  # type: ignore[union-attr]
            "SELECT rowid FROM search_fts_en WHERE search_fts_en MATCH ? AND rowid BETWEEN ? AND ? "
            "UNION ALL SELECT rowid FROM search_fts WHERE search_fts MATCH ? "
            "AND rowid BETWEEN ? AND ?",
            (titled, low, high, titled, low, high),
        ).fetchall()
        return _scored(matches, in_title)


def _scored(matches: list[Any], in_title: list[Any]) -> tuple[Ids, Scores]:
    ids = np.unique(np.fromiter((row[0] for row in matches), dtype=np.int64, count=len(matches)))
    titled = np.sort(np.fromiter((row[0] for row in in_title), dtype=np.int64, count=len(in_title)))
    found = np.searchsorted(titled, ids).clip(max=max(len(titled) - 1, 0))
    flags = titled[found] == ids if len(titled) else np.zeros(len(ids), dtype=bool)
    return ids, 1.0 + flags.astype(np.float64)


def _pg_config(language: str) -> str:
    return PG_CONFIGS.get(language, "simple")


class PostgresBackend:
    # The query is stemmed in these configurations and in "simple" (no stemming).
    CONFIGS = ("simple", *sorted(set(PG_CONFIGS.values())))

    def __init__(self) -> None:
        def vector(prefix: str) -> str:
            return " || ".join(
                f"to_tsvector(CAST(:c{i} AS regconfig), :{prefix}{i})" for i in range(_PG_SLOTS)
            )

        # Only fixed configuration names and kinds are written into the statements; the kind
        # is a literal so that the planner picks that kind's partial indexes. strip(): no
        # positions nor weights (neither phrases nor ranking use them), so rows stay narrow
        # and a search visits fewer pages.
        self._upsert = text(
            "INSERT INTO search_text (id, kind, tsv, title_tsv) "  # noqa: S608
            f"VALUES (:id, :kind, strip({vector('t')} || {vector('b')}), strip({vector('t')})) "
            "ON CONFLICT (id) DO UPDATE SET tsv = excluded.tsv, title_tsv = excluded.title_tsv"
        )
        # The query stemmed in every configuration, the distinct alternatives joined by "|".
        self._alternatives = text(
            "SELECT string_agg(DISTINCT '(' || q::text || ')', ' | ') FROM "
            "(SELECT to_tsquery(CAST(c AS regconfig), :query) AS q "
            "FROM unnest(CAST(:configs AS text[])) AS c) AS s WHERE q::text <> ''"
        )
        self._match = {
            kind: text(
                "SELECT id, title_tsv @@ CAST(:query AS tsquery) FROM search_text "  # noqa: S608
                f"WHERE kind = '{kind}' AND tsv @@ CAST(:query AS tsquery)"
            )
            for kind in KINDS
        }

    def write(self, connection: Connection, documents: Sequence[tuple[int, Document]]) -> None:
        rows = []
        for doc_id, document in documents:
            grouped: dict[str, list[tuple[str, str]]] = defaultdict(list)
            for part in document.parts:
                grouped[_pg_config(part.language)].append((fold(part.title), fold(part.body)))
            configs = list(grouped.items())
            if len(configs) > _PG_SLOTS:  # more languages than slots: the rest unstemmed
                rest = [pair for _, pairs in configs[_PG_SLOTS - 1 :] for pair in pairs]
                configs = [*configs[: _PG_SLOTS - 1], ("simple", rest)]
            row: dict[str, object] = {"id": doc_id, "kind": document.kind}
            for i in range(_PG_SLOTS):
                config, pairs = configs[i] if i < len(configs) else ("simple", [])
                title, body = _title_and_body(pairs)
                row.update({f"c{i}": config, f"t{i}": title, f"b{i}": body})
            rows.append(row)
        if rows:
            connection.execute(self._upsert, rows)

    def remove(self, connection: Connection, ids: Sequence[int]) -> None:
        if ids:
            connection.execute(
                text("DELETE FROM search_text WHERE id IN :ids").bindparams(
                    bindparam("ids", expanding=True)
                ),
                {"ids": list(ids)},
            )

    def clear(self, connection: Connection) -> None:
        connection.execute(text("DELETE FROM search_text"))

    def match(self, connection: Connection, terms: Terms, kind: str) -> tuple[Ids, Scores]:
        last = len(terms.words) - 1
        words = " & ".join(
            word + (":*" if terms.prefix and i == last else "")
            for i, word in enumerate(terms.words)
        )
        query = connection.execute(
            self._alternatives, {"query": words, "configs": list(self.CONFIGS)}
        ).scalar()
        if not query:  # only stop words
            return np.empty(0, np.int64), np.empty(0, np.float64)
        result = connection.execute(self._match[kind], {"query": query})
        rows = result.cursor.fetchall() if result.cursor is not None else []
        if not rows:
            return np.empty(0, np.int64), np.empty(0, np.float64)
        ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
        in_title = np.fromiter((bool(row[1]) for row in rows), dtype=bool, count=len(rows))
        return ids, 1.0 + in_title.astype(np.float64)


def for_dialect(name: str) -> TextBackend:
    return PostgresBackend() if name == "postgresql" else SqliteBackend()
