"""Who may do what with members, applications, organisations and the audit log.

Every permission rule of the membership domains lives here; routes and services ask these
functions and never test roles themselves.
"""

from __future__ import annotations

from app.members.models import Member


def is_member(viewer: Member | None) -> bool:
    """A member in good standing: signed in, membership not lapsed, not suspended."""
    return viewer is not None and viewer.status == "active"


def is_coordinator(viewer: Member | None) -> bool:
    """A coordinator (or admin) in good standing with two-factor authentication on.

    The role gives nothing until the second factor is on: a coordinator who has not set
    it up yet is treated as a member everywhere (pages, API, directory, e-mail addresses).
    """
    return (
        is_member(viewer)
        and viewer is not None
        and viewer.is_coordinator
        and viewer.totp_enabled_at is not None
    )


def is_admin(viewer: Member | None) -> bool:
    return is_coordinator(viewer) and viewer is not None and viewer.is_admin


def coordinated_countries(viewer: Member | None) -> frozenset[str] | None:
    """The countries a coordinator looks after; None means the whole network.

    Needs ``viewer.coordinator_countries`` loaded. A non-coordinator looks after none.
    """
    if not is_coordinator(viewer) or viewer is None:
        return frozenset()
    if viewer.coordinates_network:
        return None
    return frozenset(scope.country for scope in viewer.coordinator_countries)


def coordinates_country(viewer: Member | None, country: str | None) -> bool:
    countries = coordinated_countries(viewer)
    if countries is None:
        return is_coordinator(viewer)
    return country is not None and country in countries


def can_decide_application(viewer: Member | None, application_country: str) -> bool:
    return coordinates_country(viewer, application_country)


def can_manage_member(viewer: Member | None, member: Member) -> bool:
    """Suspend, reinstate, change member type: a coordinator of the member's country."""
    if viewer is not None and viewer.id == member.id:
        return False
    if member.is_admin and not is_admin(viewer):
        return False
    return coordinates_country(viewer, member.country)


def can_grant_roles(viewer: Member | None) -> bool:
    return is_admin(viewer)


def can_merge_organisations(viewer: Member | None) -> bool:
    return is_coordinator(viewer)


def can_read_audit_log(viewer: Member | None) -> bool:
    return is_coordinator(viewer)


def can_use_directory(viewer: Member | None) -> bool:
    return is_member(viewer)


def can_see_profile_field(viewer: Member | None, member: Member, field: str) -> bool:
    """Members see what the member shows to members; coordinators and the member see all."""
    if viewer is None:
        return False
    if viewer.id == member.id or is_coordinator(viewer):
        return True
    return is_member(viewer) and member.field_visibility(field) == "members"


def can_see_email(viewer: Member | None, member: Member) -> bool:
    """E-mail addresses are never shown to other members; coordinators need them to vet."""
    return viewer is not None and (viewer.id == member.id or is_coordinator(viewer))
