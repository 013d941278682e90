"""Implementation reports: members' accounts of running a programme where they work.

Reports are the network's feedback from practice to research: where a programme ran
(country, setting), when, how many people it reached, what worked, what did not and what
was adapted. Services take the request's Session and never commit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.kit.errors import PortalError
from app.kit.i18n import N_, _, format_number
from app.members.models import Member
from app.organisations.models import Organisation
from app.programmes import permissions, repository
from app.programmes.models import VISIBILITIES, ImplementationReport, Programme
from app.vocabularies import service as vocabularies

if TYPE_CHECKING:
    from app.programmes.deps import ProgrammeContext

EARLIEST_YEAR = 1900
TEXT_MAX = 5000
PEOPLE_REACHED_MAX = 100_000_000
# The three lessons of a report; at least one must be written.
LESSON_FIELDS = ("what_worked", "what_did_not_work", "adaptations")
REPORT_FIELDS = (
    "country",
    "setting",
    "organisation_id",
    "start_year",
    "end_year",
    "people_reached",
    *LESSON_FIELDS,
    "visibility",
)

REPORT_FIELD_LABELS: dict[str, str] = {
    "country": N_("Country"),
    "setting": N_("Setting"),
    "organisation_id": N_("Organisation that ran it"),
    "start_year": N_("Year it started"),
    "end_year": N_("Year it ended"),
    "people_reached": N_("People reached"),
    "what_worked": N_("What worked"),
    "what_did_not_work": N_("What did not work"),
    "adaptations": N_("What you adapted"),
    "visibility": N_("Who can see this report"),
}

REPORT_VISIBILITY_LABELS: dict[str, str] = {
    "public": N_("Everyone (public)"),
    "members": N_("Members of the network only"),
}


class InvalidReport(PortalError):
    """A report with a message per wrong field; ``values`` keeps what was typed."""

    status_code = 422
    title = N_("Some fields need your attention")

    def __init__(self, errors: dict[str, str], values: dict[str, Any]) -> None:
        super().__init__(_("Some fields need your attention."))
        self.errors = errors
        self.values = values


@dataclass
class ReportView:
    """A report with the names and labels its card shows."""

    report: ImplementationReport
    author_name: str
    organisation_name: str | None
    country_label: str
    setting_label: str

    def may_edit(self, viewer: Member | None) -> bool:
        return can_edit_report(viewer, self.report)

    def may_delete(self, ctx: ProgrammeContext) -> bool:
        return permissions.can_manage_report(ctx.viewer, self.report, ctx.countries)


can_edit_report = permissions.can_edit_report


def author_label(full_name: str | None, status: str | None) -> str:
    if full_name is None or status == "erased":
        return _("Former member")
    return full_name


def for_page(session: Session, viewer: Member | None, programme_id: int) -> list[ReportView]:
    """The reports ``viewer`` may read on a programme page, with names (two queries)."""
    found = repository.reports(session, viewer, programme_id)
    if not found:
        return []
    rows = session.execute(
        select(
            ImplementationReport.id,
            Member.full_name,
            Member.status,
            Organisation.name,
        )
        .outerjoin(Member, Member.id == ImplementationReport.author_id)
        .outerjoin(Organisation, Organisation.id == ImplementationReport.organisation_id)
        .where(ImplementationReport.id.in_([report.id for report in found]))
    ).all()
    names = {row[0]: (row[1], row[2], row[3]) for row in rows}
    terms = vocabularies.snapshot(session)
    views = []
    for report in found:
        full_name, status, organisation_name = names.get(report.id, (None, None, None))
        views.append(
            ReportView(
                report=report,
                author_name=author_label(full_name, status),
                organisation_name=organisation_name,
                country_label=terms.label("countries", report.country),
                setting_label=terms.label("settings", report.setting),
            )
        )
    return views


def get(session: Session, programme_id: int, report_id: int) -> ImplementationReport | None:
    """A report of this programme (None when the id belongs to another programme)."""
    return session.scalar(
        select(ImplementationReport).where(
            ImplementationReport.id == report_id,
            ImplementationReport.programme_id == programme_id,
        )
    )


def organisation_choices(
    session: Session, member: Member, keep: int | None = None
) -> list[tuple[str, str]]:
    """(id, name) pairs for the organisation picker: the member's organisations, or all.

    A member who belongs to no organisation may name any organisation of the network; the
    report's current organisation stays on offer.
    """
    session.refresh(member, ["organisations"])
    organisations = list(member.organisations)
    if not organisations:
        organisations = list(
            session.scalars(select(Organisation).order_by(Organisation.name, Organisation.id))
        )
    elif keep is not None and keep not in {organisation.id for organisation in organisations}:
        current = session.get(Organisation, keep)
        if current is not None:
            organisations.append(current)
    organisations.sort(key=lambda organisation: organisation.name.casefold())
    return [(str(organisation.id), organisation.name) for organisation in organisations]


def values_of(report: ImplementationReport) -> dict[str, Any]:
    """A stored report as the form shows it."""
    return {
        "country": report.country,
        "setting": report.setting or "",
        "organisation_id": report.organisation_id or "",
        "start_year": report.start_year,
        "end_year": report.end_year if report.end_year is not None else "",
        "people_reached": report.people_reached if report.people_reached is not None else "",
        "what_worked": report.what_worked,
        "what_did_not_work": report.what_did_not_work,
        "adaptations": report.adaptations,
        "visibility": report.visibility,
    }


def _text(value: Any) -> str:
    return "" if value is None else str(value).replace("\r\n", "\n").strip()


def _whole_number(value: Any, name: str, errors: dict[str, str]) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        errors[name] = _("Enter a whole number.")
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip().replace("\u00a0", "").replace(" ", "")
    if not re.fullmatch(r"-?\d{1,10}", text):
        errors[name] = _("Enter a whole number.")
        return None
    return int(text)


def validate(
    session: Session,
    raw: Mapping[str, Any],
    programme: Programme,
    *,
    current: ImplementationReport | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Clean a report's fields; return them with a message per wrong field."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    terms = vocabularies.snapshot(session)

    country = _text(raw.get("country")).upper()
    clean["country"] = country
    if not country:
        errors["country"] = _("Choose the country where the programme ran.")
    else:
        try:
            terms.check("countries", [country], keep=[current.country] if current else [])
        except vocabularies.UnknownCodes as problem:
            errors["country"] = problem.message

    setting = _text(raw.get("setting")) or None
    clean["setting"] = setting
    if setting is not None:
        kept = [current.setting] if current is not None and current.setting else []
        try:
            terms.check("settings", [setting], keep=kept)
        except vocabularies.UnknownCodes as problem:
            errors["setting"] = problem.message

    organisation_id = _whole_number(raw.get("organisation_id"), "organisation_id", errors)
    clean["organisation_id"] = organisation_id
    if organisation_id is not None and (
        "organisation_id" in errors
        or organisation_id <= 0
        or session.get(Organisation, organisation_id) is None
    ):
        errors["organisation_id"] = _("Choose an organisation from the list.")

    last_year = date.today().year + 1
    year_message = _(
        "Enter a year from %(first)s to %(last)s.", first=str(EARLIEST_YEAR), last=str(last_year)
    )
    start_year = _whole_number(raw.get("start_year"), "start_year", errors)
    end_year = _whole_number(raw.get("end_year"), "end_year", errors)
    clean["start_year"] = start_year
    clean["end_year"] = end_year
    if start_year is None and "start_year" not in errors:
        errors["start_year"] = _("Enter the year the programme started where you ran it.")
    for name, year in (("start_year", start_year), ("end_year", end_year)):
        if year is not None and name not in errors and not EARLIEST_YEAR <= year <= last_year:
            errors[name] = year_message
    if (
        start_year is not None
        and end_year is not None
        and "start_year" not in errors
        and "end_year" not in errors
        and end_year < start_year
    ):
        errors["end_year"] = _("The year it ended cannot be before the year it started.")

    people = _whole_number(raw.get("people_reached"), "people_reached", errors)
    clean["people_reached"] = people
    if people is not None and "people_reached" not in errors:
        if people < 0:
            errors["people_reached"] = _("Enter zero or more people.")
        elif people > PEOPLE_REACHED_MAX:
            errors["people_reached"] = _(
                "Enter a number up to %(max)s.", max=format_number(PEOPLE_REACHED_MAX)
            )

    for name in LESSON_FIELDS:
        clean[name] = _text(raw.get(name))
        if len(clean[name]) > TEXT_MAX:
            errors[name] = _("Keep this under %(count)s characters.", count=TEXT_MAX)
    if not any(clean[name] for name in LESSON_FIELDS):
        errors["what_worked"] = _(
            "Tell the network at least one thing: what worked, what did not, or what you adapted."
        )

    visibility = _text(raw.get("visibility")) or (
        "members" if programme.visibility == "members" else "public"
    )
    clean["visibility"] = visibility
    if visibility not in VISIBILITIES:
        errors["visibility"] = _("Choose who can see this report.")
    elif visibility == "public" and programme.visibility == "members":
        errors["visibility"] = _(
            "This programme is visible to members only, so its reports are too."
        )
    return clean, errors


def _raw_values(raw: Mapping[str, Any]) -> dict[str, Any]:
    """What the user typed, to show again next to the messages."""
    return {name: raw.get(name, "") for name in REPORT_FIELDS}


def create_report(
    session: Session, actor: Member, programme: Programme, raw: Mapping[str, Any]
) -> ImplementationReport:
    """A new report by ``actor`` on ``programme`` (the route checks ``can_report``)."""
    values, errors = validate(session, raw, programme)
    if errors:
        raise InvalidReport(errors, _raw_values(raw))
    report = ImplementationReport(programme_id=programme.id, author_id=actor.id, **values)
    session.add(report)
    session.flush()
    return report


def update_report(
    session: Session,
    actor: Member,
    programme: Programme,
    report: ImplementationReport,
    raw: Mapping[str, Any],
) -> ImplementationReport:
    """Change a report (the route checks that ``actor`` is its author)."""
    values, errors = validate(session, raw, programme, current=report)
    if errors:
        raise InvalidReport(errors, _raw_values(raw))
    for name, value in values.items():
        setattr(report, name, value)
    session.flush()
    return report


def delete_report(session: Session, actor: Member, report: ImplementationReport) -> None:
    """Remove a report (the route checks ``can_manage_report``)."""
    session.delete(report)
    session.flush()
