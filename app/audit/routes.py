"""The audit log for coordinators: who did what, when, to what, before and after."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from app.audit import repository
from app.audit.models import AuditEvent
from app.auth.deps import Coordinator, DbSession, load_viewer
from app.kit import pagination
from app.kit.errors import PermissionDenied
from app.kit.i18n import N_, _, format_date
from app.members import permissions, vocabulary
from app.members.vocabulary import MEMBER_TYPE_LABELS, ROLE_LABELS, STATUS_LABELS
from app.organisations.service import type_label
from app.web import render

router = APIRouter(dependencies=[Depends(load_viewer)])

PER_PAGE = 30

ACTION_LABELS: dict[str, str] = {
    "member.suspend": N_("Suspended a member"),
    "member.reinstate": N_("Reinstated a member"),
    "member.change_type": N_("Changed a member type"),
    "member.grant_coordinator": N_("Granted or changed the coordinator role"),
    "member.revoke_coordinator": N_("Revoked the coordinator role"),
    "member.invite": N_("Invited a member"),
    "member.renew": N_("Renewed a membership"),
    "organisation.create": N_("Created an organisation"),
    "organisation.update": N_("Changed an organisation"),
    "organisation.merge": N_("Merged organisations"),
    "application.approve": N_("Approved an application"),
    "application.reject": N_("Rejected an application"),
    "application.request_info": N_("Asked an applicant for information"),
    "vocabulary.term_added": N_("Added a vocabulary term"),
    "vocabulary.term_relabelled": N_("Changed the labels of a vocabulary term"),
    "vocabulary.term_retired": N_("Retired a vocabulary term"),
    "vocabulary.term_reinstated": N_("Reinstated a vocabulary term"),
    "programme.approve": N_("Approved a programme"),
    "programme.request_changes": N_("Asked for changes to a programme"),
    "programme.reject": N_("Rejected a programme"),
    "programme.archive": N_("Archived a programme"),
    "programme.restore": N_("Restored a programme"),
}
SUBJECT_TYPE_LABELS: dict[str, str] = {
    "member": N_("Member"),
    "organisation": N_("Organisation"),
    "application": N_("Application"),
    "vocabulary_term": N_("Vocabulary term"),
    "programme": N_("Programme"),
}
FIELD_LABELS: dict[str, str] = {
    "label_en": N_("Label in English"),
    "label_de": N_("Label in German"),
    "label_fr": N_("Label in French"),
    "parent_code": N_("Target group"),
    "version": N_("Version"),
    "status": N_("Status"),
    "member_type": N_("Member type"),
    "role": N_("Role"),
    "coordinates_network": N_("Coordinates the whole network"),
    "coordinator_countries": N_("Coordinated countries"),
    "membership_expires_on": N_("Membership expires on"),
    "email": N_("E-mail address"),
    "country": N_("Country"),
    "organisations": N_("Organisations"),
    "organisation": N_("Organisation"),
    "name": N_("Name"),
    "organisation_type": N_("Type of organisation"),
    "website": N_("Website"),
    "members_moved": N_("Member links moved"),
    "applications_moved": N_("Applications moved"),
}


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str


def _value_text(field: str, value: Any) -> str:
    """A stored value as a person reads it."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return ", ".join(_value_text(field, item) for item in value)
    if field == "status" and value in STATUS_LABELS:
        return _(STATUS_LABELS[value])
    if field == "member_type" and value in MEMBER_TYPE_LABELS:
        return _(MEMBER_TYPE_LABELS[value])
    if field == "role" and value in ROLE_LABELS:
        return _(ROLE_LABELS[value])
    if field in ("country", "coordinator_countries"):
        return vocabulary.country_name(str(value))
    if field == "organisation_type":
        return type_label(str(value))
    if field == "membership_expires_on":
        try:
            return format_date(date.fromisoformat(str(value)))
        except ValueError:
            return str(value)
    return str(value)


def changes(event: AuditEvent) -> list[Change]:
    """Each changed field with its readable value before and after."""
    before = event.before or {}
    after = event.after or {}
    fields = list(before) + [field for field in after if field not in before]
    return [
        Change(
            label=_(FIELD_LABELS[field]) if field in FIELD_LABELS else field,
            before=_value_text(field, before.get(field)) if field in before else "",
            after=_value_text(field, after.get(field)) if field in after else "",
        )
        for field in fields
    ]


def action_label(code: str) -> str:
    return _(ACTION_LABELS[code]) if code in ACTION_LABELS else code


def subject_type_label(code: str) -> str:
    return _(SUBJECT_TYPE_LABELS[code]) if code in SUBJECT_TYPE_LABELS else code


def _parse_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip()) if value.strip() else None
    except ValueError:
        return None


@router.get("/coordinate/audit", name="coordinate_audit")
def audit_log(
    request: Request,
    session: DbSession,
    viewer: Coordinator,
    action: str = "",
    actor: str = "",
    subject_type: str = "",
    country: str = "",
    date_from: str = "",
    date_to: str = "",
    page: str = "1",
) -> Response:
    """The audit log, newest first, filtered; national coordinators see their countries."""
    if not permissions.can_read_audit_log(viewer):
        raise PermissionDenied()
    countries = permissions.coordinated_countries(viewer)
    errors: dict[str, str] = {}
    parsed_from = _parse_date(date_from)
    parsed_to = _parse_date(date_to)
    if date_from.strip() and parsed_from is None:
        errors["date_from"] = _("Enter a date such as 2026-01-31.")
    if date_to.strip() and parsed_to is None:
        errors["date_to"] = _("Enter a date such as 2026-01-31.")
    filters = repository.AuditFilters(
        action=action.strip(),
        actor=actor.strip(),
        subject_type=subject_type.strip(),
        country=country.strip().upper(),
        date_from=parsed_from,
        date_to=parsed_to,
    )
    results = repository.events(
        session, filters, countries, page=pagination.page_number(page), per_page=PER_PAGE
    )
    actions, subject_types = repository.known_values(session)
    context = {
        "results": results,
        "filters": filters,
        "values": {"date_from": date_from, "date_to": date_to},
        "errors": errors,
        "changes": changes,
        "action_label": action_label,
        "subject_type_label": subject_type_label,
        "action_choices": [(code, action_label(code)) for code in actions],
        "subject_type_choices": [(code, subject_type_label(code)) for code in subject_types],
        "country_choices": vocabulary.country_choices(countries),
    }
    return render(request, "coordinate/audit.html", context, status_code=422 if errors else 200)
