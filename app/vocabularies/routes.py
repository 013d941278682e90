"""Coordinator pages for the curated vocabularies: add, relabel, retire and reinstate terms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from babel import Locale
from fastapi import APIRouter, Depends, Form
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from app.auth.deps import Coordinator, DbSession, load_viewer
from app.config import SUPPORTED_LANGUAGES
from app.kit.errors import NotFound, PermissionDenied
from app.kit.i18n import N_, _, get_locale
from app.members.models import Member
from app.vocabularies import service
from app.vocabularies.builtin import BABEL_VOCABULARIES, VOCABULARIES
from app.web import flash, redirect, render

router = APIRouter(dependencies=[Depends(load_viewer)])

NOTICES = {
    "added": N_("The term “%(label)s” (%(code)s) is added."),
    "relabelled": N_("The labels of “%(code)s” are saved."),
    "unchanged": N_("Nothing changed."),
    "retired": N_(
        "“%(label)s” (%(code)s) is retired: it leaves the pickers and stays on the records "
        "that use it."
    ),
    "reinstated": N_("“%(label)s” (%(code)s) is offered in the pickers again."),
}


def require_curator(viewer: Coordinator) -> Member:
    """A coordinator who may curate the vocabularies."""
    if not service.can_curate_vocabularies(viewer):
        raise PermissionDenied()
    return viewer


Curator = Annotated[Member, Depends(require_curator)]


def language_choices() -> list[tuple[str, str]]:
    """The UI languages as (code, name in the reader's language)."""
    names = Locale.parse(get_locale()).languages
    pairs = []
    for code in SUPPORTED_LANGUAGES:
        name = str(names.get(code, code))
        pairs.append((code, name[:1].upper() + name[1:]))
    return pairs


@dataclass(frozen=True)
class Row:
    code: str
    label: str
    labels: dict[str, str]
    parent_label: str
    retired: bool


def _rows(terms: service.Snapshot, name: str) -> list[Row]:
    return [
        Row(
            code=term.code,
            label=term.label(),
            labels=service.term_labels(name, term.code, term.labels),
            parent_label=terms.label("target_groups", term.parent_code),
            retired=term.retired,
        )
        for term in service.curation_order(terms, name)
    ]


def _code_hint(name: str) -> str:
    if name == "countries":
        return _("Two letters, ISO 3166-1 alpha-2, such as PT. It can never change.")
    if name == "languages":
        return _("Two letters, ISO 639-1, such as pt. It can never change.")
    return _(
        "Lower-case letters, digits and underscores, such as sport_leisure. Records and the "
        "API use it; it can never change."
    )


def _vocabulary_page(
    request: Request,
    session: Session,
    name: str,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    problem: str | None = None,
) -> Response:
    terms = service.snapshot(session)
    rows = _rows(terms, name)
    context: dict[str, Any] = {
        "name": name,
        "label": service.vocabulary_label(name),
        "multiple": VOCABULARIES[name],
        "rows": rows,
        "active_count": sum(1 for row in rows if not row.retired),
        "retired_count": sum(1 for row in rows if row.retired),
        "has_parents": name == "target_subgroups",
        "babel_labels": name in BABEL_VOCABULARIES,
        "parent_choices": terms.choices("target_groups"),
        "languages": language_choices(),
        "code_hint": _code_hint(name),
        "values": values or {},
        "errors": errors or {},
        "problem": problem,
    }
    failed = bool(errors or problem)
    response = render(
        request, "vocabularies/vocabulary.html", context, status_code=422 if failed else 200
    )
    if failed:
        # The form posted elsewhere; htmx then shows this page's own address.
        response.headers["HX-Push-Url"] = f"/coordinate/vocabularies/{name}"
    return response


@router.get("/coordinate/vocabularies", name="coordinate_vocabularies")
def vocabulary_list(request: Request, session: DbSession, viewer: Curator) -> Response:
    """Every vocabulary with its number of active and retired terms."""
    context = {"summaries": service.summaries(service.snapshot(session))}
    return render(request, "vocabularies/index.html", context)


@router.get("/coordinate/vocabularies/{name}", name="coordinate_vocabulary")
def vocabulary_page(request: Request, session: DbSession, viewer: Curator, name: str) -> Response:
    """The terms of one vocabulary, and the form to add one."""
    service.require_vocabulary(name)
    return _vocabulary_page(request, session, name)


def _sent_labels(
    label_en: Annotated[str, Form()] = "",
    label_de: Annotated[str, Form()] = "",
    label_fr: Annotated[str, Form()] = "",
) -> dict[str, str]:
    """The label fields as they were sent."""
    return {"label_en": label_en, "label_de": label_de, "label_fr": label_fr}


SentLabels = Annotated[dict[str, str], Depends(_sent_labels)]


def _sent_term(
    labels: SentLabels,
    code: Annotated[str, Form()] = "",
    parent_code: Annotated[str, Form()] = "",
) -> dict[str, str]:
    """The add-term form as it was sent, to validate and to show again."""
    return {"code": code, "parent_code": parent_code, **labels}


SentTerm = Annotated[dict[str, str], Depends(_sent_term)]


def _labels_of(values: dict[str, str]) -> dict[str, str]:
    return {locale: values.get(f"label_{locale}", "") for locale in SUPPORTED_LANGUAGES}


@router.post("/coordinate/vocabularies/{name}/terms")
def add_term(
    request: Request, session: DbSession, viewer: Curator, name: str, values: SentTerm
) -> Response:
    """Add a term with a label in every UI language."""
    service.require_vocabulary(name)
    try:
        term = service.add_term(
            session,
            viewer,
            name,
            values["code"],
            _labels_of(values),
            parent_code=values["parent_code"] or None,
        )
    except service.CurationError as error:
        return _vocabulary_page(request, session, name, values=values, errors=error.errors)
    label = service.term_label(name, term.code, term.labels, get_locale())
    flash(request, NOTICES["added"], label=label, code=term.code)
    return redirect(f"/coordinate/vocabularies/{name}")


def _term_page(
    request: Request,
    session: Session,
    name: str,
    code: str,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    terms = service.snapshot(session)
    term = terms.term(name, code)
    if term is None:
        raise NotFound(_("There is no such term."))
    current = service.term_labels(name, code, term.labels)
    context = {
        "name": name,
        "vocabulary_label": service.vocabulary_label(name),
        "term": term,
        "parent_label": terms.label("target_groups", term.parent_code),
        "languages": language_choices(),
        "values": values or {f"label_{locale}": text for locale, text in current.items()},
        "errors": errors or {},
    }
    return render(request, "vocabularies/term.html", context, status_code=422 if errors else 200)


@router.get("/coordinate/vocabularies/{name}/terms/{code}", name="coordinate_vocabulary_term")
def term_page(
    request: Request, session: DbSession, viewer: Curator, name: str, code: str
) -> Response:
    """One term: the form to change its labels, and retiring or reinstating it."""
    service.require_vocabulary(name)
    return _term_page(request, session, name, code)


@router.post("/coordinate/vocabularies/{name}/terms/{code}")
def relabel_term(
    request: Request,
    session: DbSession,
    viewer: Curator,
    name: str,
    code: str,
    values: SentLabels,
) -> Response:
    """Save a term's labels; every record that uses the code shows them at once."""
    service.require_vocabulary(name)
    term = service.get_term(session, name, code)
    before = service.term_labels(name, code, dict(term.labels or {}))
    try:
        term = service.relabel_term(session, viewer, name, code, _labels_of(values))
    except service.CurationError as error:
        return _term_page(request, session, name, code, values=values, errors=error.errors)
    after = service.term_labels(name, code, dict(term.labels or {}))
    if after == before:
        flash(request, NOTICES["unchanged"])
    else:
        flash(request, NOTICES["relabelled"], code=code)
    return redirect(f"/coordinate/vocabularies/{name}")


@router.post("/coordinate/vocabularies/{name}/terms/{code}/retire")
def retire_term(
    request: Request, session: DbSession, viewer: Curator, name: str, code: str
) -> Response:
    """Take a term out of the pickers; records that use it keep it."""
    service.require_vocabulary(name)
    try:
        term = service.retire_term(session, viewer, name, code)
    except service.CurationError as error:
        return _vocabulary_page(request, session, name, problem=error.message)
    label = service.term_label(name, term.code, term.labels, get_locale())
    flash(request, NOTICES["retired"], label=label, code=term.code)
    return redirect(f"/coordinate/vocabularies/{name}")


@router.post("/coordinate/vocabularies/{name}/terms/{code}/reinstate")
def reinstate_term(
    request: Request, session: DbSession, viewer: Curator, name: str, code: str
) -> Response:
    """Offer a retired term in the pickers again."""
    service.require_vocabulary(name)
    try:
        term = service.reinstate_term(session, viewer, name, code)
    except service.CurationError as error:
        return _vocabulary_page(request, session, name, problem=error.message)
    label = service.term_label(name, term.code, term.labels, get_locale())
    flash(request, NOTICES["reinstated"], label=label, code=term.code)
    return redirect(f"/coordinate/vocabularies/{name}")
