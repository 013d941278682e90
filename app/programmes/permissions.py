"""Who may see, edit, review, archive and report on programmes.

Every permission rule of the programme domain lives here; routes, the API and services ask
these functions and never test roles themselves.
"""

from __future__ import annotations

from collections.abc import Collection

from app.members import permissions as member_permissions
from app.members.models import Member
from app.programmes.models import ImplementationReport, Programme


def is_maintainer(viewer: Member | None, maintainer_ids: Collection[int]) -> bool:
    return (
        member_permissions.is_member(viewer)
        and viewer is not None
        and (viewer.id in maintainer_ids)
    )


def can_review(viewer: Member | None, countries: Collection[str]) -> bool:
    """A coordinator of one of the programme's countries (or of the network).

    Needs ``viewer.coordinator_countries`` loaded.
    """
    if not member_permissions.is_coordinator(viewer):
        return False
    scope = member_permissions.coordinated_countries(viewer)
    return scope is None or bool(scope.intersection(countries))


def can_see_listed(viewer: Member | None, programme: Programme) -> bool:
    """The published content: public to all, members-only to members in good standing."""
    if not programme.is_published:
        return False
    return programme.visibility == "public" or member_permissions.is_member(viewer)


def can_view(
    viewer: Member | None,
    programme: Programme,
    maintainer_ids: Collection[int],
    countries: Collection[str],
) -> bool:
    """The programme page: its listed content, or its drafts for maintainers and reviewers."""
    return (
        can_see_listed(viewer, programme)
        or is_maintainer(viewer, maintainer_ids)
        or can_review(viewer, countries)
    )


def can_create(viewer: Member | None) -> bool:
    return member_permissions.is_member(viewer)


def can_edit(
    viewer: Member | None, maintainer_ids: Collection[int], countries: Collection[str]
) -> bool:
    """Maintainers, and the coordinators who review the programme."""
    return is_maintainer(viewer, maintainer_ids) or can_review(viewer, countries)


def can_see_workflow(
    viewer: Member | None, maintainer_ids: Collection[int], countries: Collection[str]
) -> bool:
    """The review thread, working versions and rejected versions."""
    return can_edit(viewer, maintainer_ids, countries)


def can_report(viewer: Member | None, programme: Programme) -> bool:
    """Members report how a published programme went where they ran it."""
    return (
        member_permissions.is_member(viewer)
        and programme.is_published
        and not programme.is_archived
    )


def can_see_report(viewer: Member | None, report: ImplementationReport) -> bool:
    return report.visibility == "public" or member_permissions.is_member(viewer)


def can_edit_report(viewer: Member | None, report: ImplementationReport) -> bool:
    """Only its author, in good standing, edits a report (coordinators may remove it)."""
    return (
        member_permissions.is_member(viewer)
        and viewer is not None
        and report.author_id is not None
        and report.author_id == viewer.id
    )


def can_manage_report(
    viewer: Member | None, report: ImplementationReport, countries: Collection[str]
) -> bool:
    """Its author edits and removes a report; coordinators of the programme remove it."""
    return (
        member_permissions.is_member(viewer)
        and viewer is not None
        and report.author_id == viewer.id
    ) or can_review(viewer, countries)
