"""Rules of the organisations domain. Functions take a Session and never commit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.kit.errors import PermissionDenied, PortalError
from app.kit.i18n import _
from app.members import permissions
from app.members.models import Member
from app.members.vocabulary import COUNTRIES
from app.organisations import repository
from app.organisations.models import ORGANISATION_TYPE_LABELS, ORGANISATION_TYPES, Organisation

NAME_MAX_LENGTH = 200
WEBSITE_MAX_LENGTH = 500


class OrganisationError(PortalError):
    """A refused change; ``errors`` holds a message per form field."""

    status_code = 422

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(next(iter(errors.values())))
        self.errors = errors


class DuplicateOrganisation(OrganisationError):
    status_code = 409


@dataclass(frozen=True)
class OrganisationData:
    name: str
    country: str
    organisation_type: str
    website: str | None


def type_label(code: str) -> str:
    return _(ORGANISATION_TYPE_LABELS[code]) if code in ORGANISATION_TYPE_LABELS else code


def clean_website(value: str | None) -> str | None:
    """An http(s) address with a host, or None when empty; ValueError otherwise."""
    text = (value or "").strip()
    if not text:
        return None
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or " " in text:
        raise ValueError(_("Enter a web address starting with https:// or http://."))
    if len(text) > WEBSITE_MAX_LENGTH:
        raise ValueError(
            _("Keep the web address under %(count)s characters.", count=WEBSITE_MAX_LENGTH)
        )
    return text


def validate(
    *, name: str, country: str, organisation_type: str, website: str | None
) -> tuple[OrganisationData | None, dict[str, str]]:
    """The cleaned data, or the messages per field."""
    errors: dict[str, str] = {}
    cleaned_name = " ".join(name.split())
    if not cleaned_name:
        errors["name"] = _("Enter the organisation's name.")
    elif len(cleaned_name) > NAME_MAX_LENGTH:
        errors["name"] = _("Keep the name under %(count)s characters.", count=NAME_MAX_LENGTH)
    code = country.strip().upper()
    if code not in COUNTRIES:
        errors["country"] = _("Choose a country.")
    if organisation_type not in ORGANISATION_TYPES:
        errors["organisation_type"] = _("Choose a type of organisation.")
    cleaned_website = None
    try:
        cleaned_website = clean_website(website)
    except ValueError as error:
        errors["website"] = str(error)
    if errors:
        return None, errors
    data = OrganisationData(
        name=cleaned_name,
        country=code,
        organisation_type=organisation_type,
        website=cleaned_website,
    )
    return data, {}


def _state(organisation: Organisation) -> dict[str, Any]:
    return {
        "name": organisation.name,
        "country": organisation.country,
        "organisation_type": organisation.organisation_type,
        "website": organisation.website,
    }


def _require_manage(actor: Member) -> None:
    if not permissions.can_merge_organisations(actor):
        raise PermissionDenied()


def _check_unique(session: Session, data: OrganisationData, exclude_id: int | None) -> None:
    if repository.find_same_name(session, data.name, data.country, exclude_id=exclude_id):
        raise DuplicateOrganisation(
            {"name": _("An organisation of this name already exists in this country.")}
        )


def create(session: Session, actor: Member, data: OrganisationData) -> Organisation:
    """A new organisation; its name must be new in its country."""
    _require_manage(actor)
    _check_unique(session, data, None)
    organisation = Organisation(
        name=data.name,
        country=data.country,
        organisation_type=data.organisation_type,
        website=data.website,
    )
    session.add(organisation)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="organisation.create",
        subject_type="organisation",
        subject_id=organisation.id,
        subject_label=organisation.name,
        country=organisation.country,
        after=_state(organisation),
    )
    return organisation


def update(
    session: Session, actor: Member, organisation: Organisation, data: OrganisationData
) -> bool:
    """Change the organisation's fields; returns False when nothing changed."""
    _require_manage(actor)
    _check_unique(session, data, organisation.id)
    before = _state(organisation)
    organisation.name = data.name
    organisation.country = data.country
    organisation.organisation_type = data.organisation_type
    organisation.website = data.website
    after = _state(organisation)
    changed = [key for key in after if after[key] != before[key]]
    if not changed:
        return False
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="organisation.update",
        subject_type="organisation",
        subject_id=organisation.id,
        subject_label=organisation.name,
        country=organisation.country,
        before={key: before[key] for key in changed},
        after={key: after[key] for key in changed},
    )
    return True


@dataclass(frozen=True)
class MergeReport:
    members_moved: int
    applications_moved: int


def merge(
    session: Session, actor: Member, duplicate: Organisation, keep: Organisation
) -> MergeReport:
    """Move every member link and application of ``duplicate`` to ``keep``, then delete it."""
    if not permissions.can_merge_organisations(actor):
        raise PermissionDenied()
    if duplicate.id == keep.id:
        raise OrganisationError({"keep": _("Choose two different organisations.")})
    members_moved, applications_moved = repository.move_links(session, duplicate.id, keep.id)
    duplicate_name, duplicate_id = duplicate.name, duplicate.id
    session.delete(duplicate)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="organisation.merge",
        subject_type="organisation",
        subject_id=keep.id,
        subject_label=keep.name,
        country=keep.country,
        before={"organisation": f"{duplicate_name} (#{duplicate_id})"},
        after={
            "organisation": f"{keep.name} (#{keep.id})",
            "members_moved": members_moved,
            "applications_moved": applications_moved,
        },
    )
    # Members already loaded in this session would still list the deleted organisation.
    for loaded in list(session.identity_map.values()):
        if isinstance(loaded, Member) and "organisations" not in inspect(loaded).unloaded:
            session.expire(loaded, ["organisations"])
    return MergeReport(members_moved=members_moved, applications_moved=applications_moved)


def get_or_create(
    session: Session,
    *,
    name: str,
    country: str,
    organisation_type: str,
    website: str | None = None,
    is_demo: bool = False,
) -> tuple[Organisation, bool]:
    """The organisation of this name in this country, and whether it was created now."""
    if organisation_type not in ORGANISATION_TYPES:
        raise ValueError(f"unknown organisation type {organisation_type!r}")
    existing = repository.get_by_name(session, name, country)
    if existing is not None:
        return existing, False
    organisation = Organisation(
        name=name,
        country=country,
        organisation_type=organisation_type,
        website=website,
        is_demo=is_demo,
    )
    session.add(organisation)
    session.flush()
    return organisation, True
