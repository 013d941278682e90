"""Reading, labelling, validating and curating vocabulary terms.

A request reads all terms once (about 120 rows) and keeps them on its session, so pages
label any number of codes without further queries and a term curated in this request is
seen at once.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from babel import Locale
from sqlalchemy import Select, Text, case, cast, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.config import SUPPORTED_LANGUAGES
from app.db import utcnow
from app.kit.errors import NotFound, PortalError
from app.kit.i18n import N_, _, get_locale, translations_for
from app.members import permissions
from app.members.models import Member
from app.vocabularies.builtin import (
    BABEL_VOCABULARIES,
    BUILTIN_LABELS,
    VOCABULARIES,
    VOCABULARY_LABELS,
)
from app.vocabularies.models import VocabularyTerm

_SESSION_KEY = "vocabulary_snapshot"


class UnknownCodes(PortalError):
    """Codes that are not (or no longer) in a field's vocabulary."""

    status_code = 422
    title = N_("Unknown code")

    def __init__(self, field_name: str, codes: Sequence[str], allowed: Sequence[str]) -> None:
        self.field = field_name
        self.codes = list(codes)
        self.allowed = list(allowed)
        super().__init__(
            _(
                "Unknown code for %(field)s: %(codes)s. Allowed codes: %(allowed)s.",
                field=field_name,
                codes=", ".join(codes),
                allowed=", ".join(allowed),
            )
        )


@dataclass(frozen=True)
class Term:
    vocabulary: str
    code: str
    parent_code: str | None
    position: int
    labels: dict[str, str]
    retired: bool

    def label(self, locale: str | None = None) -> str:
        """The label in ``locale`` (the reader's by default)."""
        return term_label(self.vocabulary, self.code, self.labels, locale or get_locale())


@dataclass
class Snapshot:
    """Every term of every vocabulary, as one request sees them."""

    terms: dict[str, dict[str, Term]] = field(default_factory=dict)
    # Which reading of the terms this is, in this process: a new number whenever they change.
    edition: int = 0

    def vocabulary(self, name: str) -> list[Term]:
        return sorted(self.terms.get(name, {}).values(), key=lambda term: term.position)

    def active_codes(self, name: str) -> list[str]:
        return [term.code for term in self.vocabulary(name) if not term.retired]

    def term(self, name: str, code: str) -> Term | None:
        return self.terms.get(name, {}).get(code)

    def label(self, name: str, code: str | None) -> str:
        if not code:
            return ""
        term = self.term(name, code)
        if term is None:
            return term_label(name, code, {}, get_locale())
        return term.label()

    def choices(self, name: str, *, keep: Iterable[str] = ()) -> list[tuple[str, str]]:
        """(code, label) pairs for a picker: active terms, plus retired ones in ``keep``.

        Countries and languages are sorted by name in the reader's language, other
        vocabularies keep their curated order.
        """
        kept = set(keep)
        pairs = [
            (term.code, term.label())
            for term in self.vocabulary(name)
            if not term.retired or term.code in kept
        ]
        if name in BABEL_VOCABULARIES:
            pairs.sort(key=lambda pair: pair[1].casefold())
        return pairs

    def subgroup_choices(
        self, *, keep: Iterable[str] = ()
    ) -> list[tuple[str, list[tuple[str, str]]]]:
        """Target subgroups under their target group: [(group label, [(code, label)])]."""
        kept = set(keep)
        grouped: list[tuple[str, list[tuple[str, str]]]] = []
        for group in self.vocabulary("target_groups"):
            members = [
                (term.code, term.label())
                for term in self.vocabulary("target_subgroups")
                if term.parent_code == group.code and (not term.retired or term.code in kept)
            ]
            if members:
                grouped.append((group.label(), members))
        return grouped

    def check(self, field_name: str, codes: Sequence[str], *, keep: Iterable[str] = ()) -> None:
        """Refuse codes a picker would not offer (``keep``: retired codes already on the record)."""
        allowed = self.active_codes(field_name)
        kept = set(keep)
        unknown = [code for code in codes if code not in allowed and code not in kept]
        if unknown:
            raise UnknownCodes(field_name, unknown, allowed)


def term_label(vocabulary: str, code: str, labels: dict[str, Any], locale: str) -> str:
    """The curated label in ``locale``, else the built-in one, else English, else the code."""
    curated = labels.get(locale)
    if isinstance(curated, str) and curated:
        return curated
    builtin = BUILTIN_LABELS.get((vocabulary, code))
    if builtin is not None:
        return translations_for(locale).gettext(builtin)
    if vocabulary in BABEL_VOCABULARIES:
        name = _babel_name(vocabulary, code, locale)
        if name:
            return name
    english = labels.get("en")
    return english if isinstance(english, str) and english else code


@lru_cache(maxsize=4096)
def _babel_name(vocabulary: str, code: str, locale: str) -> str | None:
    """A country's or language's name in ``locale`` from Babel's data (remembered: a search
    page names a hundred of them)."""
    babel_locale = Locale.parse(locale)
    names = babel_locale.territories if vocabulary == "countries" else babel_locale.languages
    name = names.get(code.upper() if vocabulary == "countries" else code.lower())
    if not name:
        return None
    text = str(name)
    return text[:1].upper() + text[1:]


def vocabulary_label(name: str) -> str:
    return _(VOCABULARY_LABELS[name]) if name in VOCABULARY_LABELS else name


def term_labels(vocabulary: str, code: str, labels: dict[str, Any]) -> dict[str, str]:
    """The label a reader of each UI language sees, keyed by language code."""
    return {locale: term_label(vocabulary, code, labels, locale) for locale in SUPPORTED_LANGUAGES}


def require_vocabulary(name: str) -> str:
    """``name`` if it is a vocabulary of the portal; otherwise not found."""
    if name not in VOCABULARIES:
        raise NotFound(_("There is no such vocabulary."))
    return name


@dataclass(frozen=True)
class VocabularySummary:
    name: str
    label: str
    multiple: bool
    active_count: int
    retired_count: int


def summaries(terms: Snapshot) -> list[VocabularySummary]:
    """Every vocabulary with its label in the reader's language and its term counts."""
    found = []
    for name, multiple in VOCABULARIES.items():
        vocabulary = terms.vocabulary(name)
        retired = sum(1 for term in vocabulary if term.retired)
        found.append(
            VocabularySummary(
                name=name,
                label=vocabulary_label(name),
                multiple=multiple,
                active_count=len(vocabulary) - retired,
                retired_count=retired,
            )
        )
    return found


def curation_order(terms: Snapshot, name: str) -> list[Term]:
    """Every term of a vocabulary, retired ones included, in the order coordinators read it.

    Subgroups follow their target group; countries and languages go by name in the reader's
    language; other vocabularies keep their curated order.
    """
    vocabulary = terms.vocabulary(name)
    if name in BABEL_VOCABULARIES:
        return sorted(vocabulary, key=lambda term: term.label().casefold())
    if name == "target_subgroups":
        group_positions = {
            group.code: group.position for group in terms.vocabulary("target_groups")
        }
        return sorted(
            vocabulary,
            key=lambda term: (group_positions.get(term.parent_code or "", 1 << 30), term.position),
        )
    return vocabulary


def can_curate_vocabularies(viewer: Member | None) -> bool:
    """Add, relabel, retire and reinstate terms: any coordinator in good standing."""
    return permissions.is_coordinator(viewer)


def snapshot(session: Session) -> Snapshot:
    """All terms, read once per session.

    Every page needs the terms, and they seldom change: each session asks the database for
    a fingerprint of them (one row: every term's values joined), and the terms are read and
    built again only when it differs from the last one this process saw; otherwise that
    snapshot is shared (read only).
    """
    cached = session.info.get(_SESSION_KEY)
    if isinstance(cached, Snapshot):
        return cached
    dialect = session.get_bind().dialect.name
    fingerprint = session.execute(_fingerprint(dialect)).scalar()
    global _last_built
    last = _last_built
    if last is not None and last[0] == fingerprint:
        loaded = last[1]
    else:
        t = VocabularyTerm.__table__.c
        loaded = Snapshot()
        # The terms with their fingerprint in one statement (one view of the table, even
        # with a change committed since the fingerprint above): what is kept under a
        # fingerprint is always what it was taken from.
        fingerprint = None
        for row in session.execute(
            select(
                _fingerprint(dialect).scalar_subquery(),
                t.vocabulary,
                t.code,
                t.parent_code,
                t.position,
                cast(t.labels, Text),
                t.retired_at.is_not(None),
            ).order_by(t.id)
        ):
            fingerprint, vocabulary, code, parent_code, position, labels, retired = row
            loaded.terms.setdefault(vocabulary, {})[code] = Term(
                vocabulary=vocabulary,
                code=code,
                parent_code=parent_code,
                position=position,
                labels=dict(json.loads(labels) if labels else {}),
                retired=bool(retired),
            )
        loaded.edition = next(_editions)
        _last_built = (fingerprint, loaded)
    session.info[_SESSION_KEY] = loaded
    return loaded


@lru_cache(maxsize=4)
def _fingerprint(dialect: str) -> Select[str | None]:
    """Every term's values, one line per term in order, as one text (NULL without terms).

    Over an alias of the table, so that as a subquery of a statement on the table itself
    it still reads every term (not only the outer row's).
    """
    t = VocabularyTerm.__table__.alias("fingerprinted").c
    line = (
        t.vocabulary
        + "|"
        + t.code
        + "|"
        + func.coalesce(t.parent_code, "")
        + "|"
        + cast(t.position, Text)
        + "|"
        + func.coalesce(cast(t.labels, Text), "")
        + "|"
        + case((t.retired_at.is_(None), "0"), else_="1")
    )
    if dialect == "postgresql":
        return select(func.aggregate_strings(line, "\n").aggregate_order_by(t.id))
    # SQLite before 3.44 has no ORDER BY within an aggregate; it joins the rows of an
    # ordered subquery in that order.
    ordered = select(line.label("line")).order_by(t.id).subquery()
    return select(func.aggregate_strings(ordered.c.line, "\n"))


# The fingerprint of the terms this process read last, and the snapshot built from them.
_editions = itertools.count(1)
_last_built: tuple[str | None, Snapshot] | None = None


def forget(session: Session) -> None:
    """Drop the session's snapshot after a change to the terms."""
    session.info.pop(_SESSION_KEY, None)


# --- curation -------------------------------------------------------------------------

CODE_PATTERN = r"^[a-z][a-z0-9_]{1,39}$"
LABEL_MAX = 200


class CurationError(PortalError):
    """Curation input that breaks a rule; ``errors`` holds a message per form field."""

    status_code = 422

    def __init__(
        self, message: str, *, field_name: str, errors: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.field = field_name
        self.errors = errors or {field_name: message}


def get_term(session: Session, vocabulary: str, code: str) -> VocabularyTerm:
    term = session.scalar(
        select(VocabularyTerm).where(
            VocabularyTerm.vocabulary == vocabulary, VocabularyTerm.code == code
        )
    )
    if term is None:
        raise NotFound(_("There is no such term."))
    return term


def _label_errors(labels: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The labels, trimmed, and a message for each UI language whose label is missing or long."""
    cleaned = {
        locale: " ".join((labels.get(locale) or "").split()) for locale in SUPPORTED_LANGUAGES
    }
    errors: dict[str, str] = {}
    for locale, text in cleaned.items():
        if not text:
            errors[f"label_{locale}"] = _("Give a label in every language of the portal.")
        elif len(text) > LABEL_MAX:
            errors[f"label_{locale}"] = _(
                "A label has at most %(count)s characters.", count=LABEL_MAX
            )
    return cleaned, errors


def _raise_first(errors: dict[str, str]) -> None:
    if errors:
        field_name, message = next(iter(errors.items()))
        raise CurationError(message, field_name=field_name, errors=errors)


def _clean_labels(labels: dict[str, str]) -> dict[str, str]:
    cleaned, errors = _label_errors(labels)
    _raise_first(errors)
    return cleaned


def _stored_labels(vocabulary: str, code: str, labels: dict[str, str]) -> dict[str, str]:
    """The labels worth storing: those that differ from the built-in (or Babel) label.

    A seed term that keeps its built-in label then follows the portal's translations,
    instead of freezing the text the form showed when it was saved.
    """
    stored = {}
    for locale, text in labels.items():
        fallback = term_label(vocabulary, code, {}, locale)
        if fallback == code or text != fallback:
            stored[locale] = text
    return stored


def normalise_code(vocabulary: str, code: str) -> str:
    """A code as the vocabulary stores it: countries upper case, languages lower case."""
    code = code.strip()
    if vocabulary == "countries":
        return code.upper()
    if vocabulary == "languages":
        return code.lower()
    return code


def _code_error(session: Session, vocabulary: str, code: str) -> str | None:
    if vocabulary == "countries":
        if not re.fullmatch(r"[A-Z]{2}", code):
            return _("A country code is two letters (ISO 3166-1 alpha-2).")
    elif vocabulary == "languages":
        if not re.fullmatch(r"[a-z]{2}", code):
            return _("A language code is two letters (ISO 639-1).")
    elif not re.fullmatch(CODE_PATTERN, code):
        return _(
            "A code has 2 to 40 characters: lower-case letters, digits and underscores, "
            "starting with a letter."
        )
    existing = snapshot(session).term(vocabulary, code)
    if existing is not None and existing.retired:
        return _("This vocabulary has that code already, retired: reinstate it instead.")
    if existing is not None:
        return _("This vocabulary already has that code.")
    return None


def add_term(
    session: Session,
    actor: Member,
    vocabulary: str,
    code: str,
    labels: dict[str, str],
    parent_code: str | None = None,
) -> VocabularyTerm:
    """Add a term with a label in every UI language; its code can never change afterwards."""
    require_vocabulary(vocabulary)
    code = normalise_code(vocabulary, code)
    errors: dict[str, str] = {}
    code_error = _code_error(session, vocabulary, code)
    if code_error is not None:
        errors["code"] = code_error
    cleaned, label_errors = _label_errors(labels)
    errors.update(label_errors)
    if vocabulary == "target_subgroups":
        groups = snapshot(session).active_codes("target_groups")
        if parent_code not in groups:
            errors["parent_code"] = _("Choose the target group this subgroup belongs to.")
    else:
        parent_code = None
    _raise_first(errors)
    position = (
        session.scalar(
            select(func.max(VocabularyTerm.position)).where(VocabularyTerm.vocabulary == vocabulary)
        )
        or 0
    ) + 1
    term = VocabularyTerm(
        vocabulary=vocabulary,
        code=code,
        parent_code=parent_code,
        position=position,
        labels=_stored_labels(vocabulary, code, cleaned),
    )
    try:
        # A savepoint: a coordinator adding the same code at the same moment is refused
        # at the field instead of failing the whole request.
        with session.begin_nested():
            session.add(term)
    except IntegrityError:
        forget(session)
        message = _("This vocabulary already has that code.")
        raise CurationError(message, field_name="code") from None
    forget(session)
    added: dict[str, Any] = {f"label_{locale}": text for locale, text in cleaned.items()}
    if parent_code is not None:
        added["parent_code"] = parent_code
    _audit(session, actor, "vocabulary.term_added", term, after=added)
    return term


def relabel_term(
    session: Session, actor: Member, vocabulary: str, code: str, labels: dict[str, str]
) -> VocabularyTerm:
    """Give a term new labels; records keep the code, so they show the new label at once.

    Nothing is written (or audited) when every language keeps the label it had.
    """
    term = get_term(session, vocabulary, code)
    cleaned = _clean_labels(labels)
    before = term_labels(vocabulary, code, dict(term.labels or {}))
    stored = _stored_labels(vocabulary, code, cleaned)
    if before == cleaned:
        return term
    term.labels = stored
    session.flush()
    forget(session)
    changed = [locale for locale in SUPPORTED_LANGUAGES if before[locale] != cleaned[locale]]
    _audit(
        session,
        actor,
        "vocabulary.term_relabelled",
        term,
        before={f"label_{locale}": before[locale] for locale in changed},
        after={f"label_{locale}": cleaned[locale] for locale in changed},
    )
    return term


def retire_term(session: Session, actor: Member, vocabulary: str, code: str) -> VocabularyTerm:
    """Take a term out of the pickers; records that use it keep it.

    A target group keeps its place while any of its subgroups is still offered.
    """
    term = get_term(session, vocabulary, code)
    if term.retired_at is not None:
        return term
    if vocabulary == "target_groups":
        active_subgroups = [
            subgroup.code
            for subgroup in snapshot(session).vocabulary("target_subgroups")
            if subgroup.parent_code == code and not subgroup.retired
        ]
        if active_subgroups:
            raise CurationError(
                _(
                    "Retire the subgroups of this target group first: %(codes)s.",
                    codes=", ".join(active_subgroups),
                ),
                field_name="code",
            )
    term.retired_at = utcnow()
    term.retired_by_id = actor.id
    session.flush()
    forget(session)
    _audit(session, actor, "vocabulary.term_retired", term)
    return term


def reinstate_term(session: Session, actor: Member, vocabulary: str, code: str) -> VocabularyTerm:
    """Bring a retired term back into the pickers (a subgroup only under an offered group)."""
    term = get_term(session, vocabulary, code)
    if term.retired_at is None:
        return term
    if vocabulary == "target_subgroups":
        group = snapshot(session).term("target_groups", term.parent_code or "")
        if group is None or group.retired:
            raise CurationError(
                _("Reinstate its target group first: %(code)s.", code=term.parent_code or "—"),
                field_name="code",
            )
    term.retired_at = None
    term.retired_by_id = None
    session.flush()
    forget(session)
    _audit(session, actor, "vocabulary.term_reinstated", term)
    return term


def _audit(
    session: Session,
    actor: Member,
    action: str,
    term: VocabularyTerm,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    audit_service.record(
        session,
        actor=actor,
        action=action,
        subject_type="vocabulary_term",
        subject_id=term.id,
        subject_label=f"{term.vocabulary}: {term.code}",
        before=before,
        after=after,
    )
