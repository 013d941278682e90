"""Who may see, publish, edit, review and unpublish evaluations, and override ratings.

Every permission rule of the evidence domain lives here.
"""

from __future__ import annotations

from collections.abc import Collection

from app.evidence.models import Evaluation
from app.members import permissions as member_permissions
from app.members.models import Member
from app.programmes import permissions as programme_permissions


def publishes_directly(viewer: Member | None) -> bool:
    """Researchers and coordinators publish their evaluations without review."""
    return (
        member_permissions.is_member(viewer)
        and viewer is not None
        and (viewer.member_type == "researcher" or member_permissions.is_coordinator(viewer))
    )


def can_create(viewer: Member | None) -> bool:
    return member_permissions.is_member(viewer)


def is_author(viewer: Member | None, evaluation: Evaluation) -> bool:
    return (
        member_permissions.is_member(viewer)
        and viewer is not None
        and evaluation.created_by_id == viewer.id
    )


def can_review(viewer: Member | None, countries: Collection[str]) -> bool:
    """Coordinators of the study's country or of an evaluated programme's (or the network)."""
    return programme_permissions.can_review(viewer, countries)


def can_see_listed(viewer: Member | None, evaluation: Evaluation) -> bool:
    if evaluation.status != "published":
        return False
    return evaluation.visibility == "public" or member_permissions.is_member(viewer)


def can_view(viewer: Member | None, evaluation: Evaluation, countries: Collection[str]) -> bool:
    return (
        can_see_listed(viewer, evaluation)
        or is_author(viewer, evaluation)
        or can_review(viewer, countries)
    )


def can_edit(viewer: Member | None, evaluation: Evaluation, countries: Collection[str]) -> bool:
    return is_author(viewer, evaluation) or can_review(viewer, countries)


def can_unpublish(viewer: Member | None, countries: Collection[str]) -> bool:
    return can_review(viewer, countries)


def can_override_rating(viewer: Member | None, programme_countries: Collection[str]) -> bool:
    """Coordinators of the programme's countries set or clear an override."""
    return programme_permissions.can_review(viewer, programme_countries)


def can_see_rereview_list(viewer: Member | None) -> bool:
    return member_permissions.is_coordinator(viewer)


def can_record_registry_rating(viewer: Member | None, programme_countries: Collection[str]) -> bool:
    return programme_permissions.can_review(viewer, programme_countries)
