"""Pieces every JSON API of the portal shares: OpenAPI problem responses, the Bearer
scheme, list parameters and the revision a caller sends for optimistic locking."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi.security import HTTPBearer

from app.kit.errors import PortalError
from app.kit.i18n import N_, _

# Documents the Bearer scheme in OpenAPI; the callers themselves are resolved by api_deps.
bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="PersonalAccessToken",
    description="A personal access token, created under My account → API tokens.",
)

Responses = dict[int | str, dict[str, Any]]


def problem_response(description: str, model: type[Any]) -> dict[str, Any]:
    """An OpenAPI response documented as a problem document of ``model``."""
    return {
        "description": description,
        "model": model,
        "content": {
            "application/problem+json": {
                "schema": {"$ref": f"#/components/schemas/{model.__name__}"}
            }
        },
    }


class PreconditionRequired(PortalError):
    status_code = 428
    title = N_("Send the revision you edited")


class NothingToChange(PortalError):
    status_code = 422
    title = N_("Nothing to change")


def split_codes(values: Sequence[str] | None) -> list[str]:
    """Repeated parameters and comma-separated lists alike: ``?a=x&a=y`` or ``?a=x,y``."""
    codes = [part.strip() for value in values or [] for part in value.split(",")]
    return list(dict.fromkeys(code for code in codes if code))


def sent_token(if_match: str | None, body_revision: str | None) -> str:
    """The revision the caller edited: the If-Match header (an ETag) or the body's field."""
    if if_match:
        value = if_match.split(",")[0].strip().removeprefix("W/").strip().strip('"')
        if value and value != "*":
            return value
    if body_revision and body_revision.strip():
        return body_revision.strip()
    raise PreconditionRequired(
        _(
            "Send the revision you read with GET, as the If-Match header or the revision "
            "field, so that nobody's edit is overwritten."
        )
    )
