"""Domain errors: each carries its HTTP status and a message a person can read."""

from __future__ import annotations

from app.kit.i18n import N_


class PortalError(Exception):
    """Base of every error the portal shows to a user."""

    status_code = 400
    title = N_("The request could not be completed")

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.title)
        self.message = message or self.title


class NotFound(PortalError):
    status_code = 404
    title = N_("Page not found")


class PermissionDenied(PortalError):
    status_code = 403
    title = N_("You do not have permission to do this")


class CSRFError(PortalError):
    status_code = 403
    title = N_("This form has expired")
