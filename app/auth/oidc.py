"""Single sign-on with OpenID Connect: sign in, apply with a prefilled form, link identities.

Authlib's Starlette client does the protocol: the authorization code flow with PKCE (S256),
the ``state`` kept in the signed session cookie, and the ID token's signature, issuer,
audience, expiry and ``nonce`` checked against what this browser sent. Providers come from
``settings.oidc_providers``; nothing here is specific to one of them.

Starting a sign-in is a GET link, not a form: the Content-Security-Policy's
``form-action 'self'`` would stop a form whose answer redirects to another origin.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.starlette_client import OAuth
from fastapi import APIRouter, Depends
from joserfc.errors import JoseError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from app.auth import service as auth_service
from app.auth.deps import DbSession, SignedIn, Viewer, load_viewer
from app.auth.models import OidcIdentity
from app.config import OidcProvider, Settings
from app.kit.csrf import SESSION_KEY as CSRF_SESSION_KEY
from app.kit.errors import NotFound
from app.kit.i18n import N_, _
from app.members.models import Member
from app.web import flash, pop_notice, redirect, render

logger = logging.getLogger("portal.oidc")

router = APIRouter(dependencies=[Depends(load_viewer)])

# Session keys. The flow is what this browser started (sign in or link, and for whom);
# the application key is read by the membership application form to prefill it.
FLOW_KEY = "oidc_flow"
APPLICATION_KEY = "oidc_application"

MAX_EMAIL_LENGTH = 320  # as OidcIdentity.email and Member.email

# Seconds to wait for the provider (discovery, token, keys, userinfo).
PROVIDER_TIMEOUT = 10.0

NOTICES = {
    "linked": N_("Your %(provider)s identity is linked. You can now sign in with it."),
    "already_linked": N_("This %(provider)s identity is already linked to your account."),
    "unlinked": N_("Your %(provider)s identity is no longer linked to your account."),
}


@dataclass(frozen=True)
class SignInProblem:
    """Why a sign-in with a provider did not work, as the person will read it."""

    title: str
    message: str
    status_code: int = 400


class ProviderFailed(Exception):
    """The provider's answer could not be used; carries what to tell the person."""

    def __init__(self, problem: SignInProblem) -> None:
        super().__init__(problem.title)
        self.problem = problem


# ----------------------------------------------------------------------------------------
# Providers and the Authlib registry


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def configured_provider(request: Request, name: str) -> OidcProvider:
    """The configured provider of this name, or 404."""
    for provider in _settings(request).oidc_providers:
        if provider.name == name:
            return provider
    raise NotFound()


def _registry(request: Request) -> OAuth:
    """One Authlib registry per application, built from its settings on first use.

    Each client caches the provider's discovery document and keys after the first request.
    """
    registry: OAuth | None = getattr(request.app.state, "oidc_registry", None)
    if registry is None:
        registry = OAuth()
        for provider in _settings(request).oidc_providers:
            client_kwargs: dict[str, Any] = {
                "scope": provider.scope,
                "code_challenge_method": "S256",
                "timeout": PROVIDER_TIMEOUT,
            }
            if not provider.client_secret:
                # A public client: PKCE alone proves the code is ours.
                client_kwargs["token_endpoint_auth_method"] = "none"  # noqa: S105 - no secret
            registry.register(
                name=provider.name,
                client_id=provider.client_id,
                client_secret=provider.client_secret or None,
                server_metadata_url=_discovery_url(provider),
                client_kwargs=client_kwargs,
            )
        request.app.state.oidc_registry = registry
    return registry


def _discovery_url(provider: OidcProvider) -> str:
    return provider.issuer.rstrip("/") + "/.well-known/openid-configuration"


def _client(request: Request, provider: OidcProvider) -> Any:
    return _registry(request).create_client(provider.name)


def callback_url(request: Request, provider: OidcProvider) -> str:
    """The redirect URI registered at the provider: from the configured base URL, never
    from the request's Host header."""
    return _settings(request).base_url.rstrip("/") + f"/sign-in/oidc/{provider.name}/callback"


# ----------------------------------------------------------------------------------------
# Problems shown to the person


def _unreachable(provider: OidcProvider) -> SignInProblem:
    return SignInProblem(
        _("%(provider)s cannot be reached", provider=provider.label),
        _(
            "The portal could not contact %(provider)s. Please try again in a few minutes, "
            "or sign in with your e-mail address and password.",
            provider=provider.label,
        ),
        status_code=502,
    )


def _cancelled(provider: OidcProvider) -> SignInProblem:
    return SignInProblem(
        _("Sign-in was cancelled"),
        _(
            "%(provider)s did not confirm who you are, so you are not signed in. You can try "
            "again, or sign in with your e-mail address and password.",
            provider=provider.label,
        ),
    )


def _expired(provider: OidcProvider) -> SignInProblem:
    return SignInProblem(
        _("This sign-in has expired"),
        _(
            "The answer from %(provider)s does not belong to a sign-in started in this browser: "
            "it may have expired, or been opened in another window. Nothing was changed; "
            "please start again.",
            provider=provider.label,
        ),
    )


def _not_verified(provider: OidcProvider) -> SignInProblem:
    return SignInProblem(
        _("Sign-in could not be completed"),
        _(
            "The answer from %(provider)s could not be verified, so you are not signed in. "
            "Please try again; if it keeps happening, tell the network's coordinators.",
            provider=provider.label,
        ),
    )


def _problem_page(
    request: Request, provider: OidcProvider, problem: SignInProblem, *, linking: bool = False
) -> Response:
    context = {"provider": provider, "problem": problem, "linking": linking}
    return render(request, "auth/oidc_error.html", context, status_code=problem.status_code)


# ----------------------------------------------------------------------------------------
# Talking to the provider


async def _redirect_to_provider(
    request: Request, provider: OidcProvider, *, linking: bool
) -> Response:
    client = _client(request, provider)
    try:
        metadata = await client.load_server_metadata()
        if str(metadata.get("issuer", "")).rstrip("/") != provider.issuer.rstrip("/"):
            # The discovery document speaks for another issuer: a configuration mistake
            # (or worse); ID tokens would be checked against the wrong issuer.
            logger.error(
                "OpenID Connect provider %s: discovery names issuer %r, configured %r",
                provider.name,
                metadata.get("issuer"),
                provider.issuer,
            )
            raise RuntimeError("issuer mismatch")
        response: Response = await client.authorize_redirect(
            request, callback_url(request, provider)
        )
    except (httpx.HTTPError, AuthlibBaseError, ValueError, KeyError, RuntimeError) as error:
        logger.warning("OpenID Connect provider %s: discovery failed: %r", provider.name, error)
        request.session.pop(FLOW_KEY, None)
        return _problem_page(request, provider, _unreachable(provider), linking=linking)
    return response


async def verified_claims(request: Request, provider: OidcProvider) -> dict[str, Any]:
    """Exchange the code and return the ID token's claims (with userinfo when the ID token
    lacks e-mail or name). Raises ProviderFailed with what to tell the person."""
    client = _client(request, provider)
    try:
        token = await client.authorize_access_token(request)
    except MismatchingStateError as error:
        logger.info("OpenID Connect provider %s: state mismatch", provider.name)
        raise ProviderFailed(_expired(provider)) from error
    except OAuthError as error:
        logger.info("OpenID Connect provider %s refused: %s", provider.name, error.error)
        if error.error in ("access_denied", "login_required", "consent_required"):
            raise ProviderFailed(_cancelled(provider)) from error
        raise ProviderFailed(_not_verified(provider)) from error
    except httpx.HTTPError as error:
        logger.warning("OpenID Connect provider %s unreachable: %r", provider.name, error)
        raise ProviderFailed(_unreachable(provider)) from error
    except (JoseError, AuthlibBaseError, ValueError, KeyError, RuntimeError) as error:
        # A bad signature, issuer, audience, expiry or nonce in the ID token lands here.
        logger.warning("OpenID Connect provider %s: invalid answer: %r", provider.name, error)
        raise ProviderFailed(_not_verified(provider)) from error

    # Authlib validates the ID token (nonce included) only when there is one; without it
    # nothing ties the answer to this browser, so it is refused.
    userinfo = token.get("userinfo")
    if not userinfo or not userinfo.get("sub"):
        logger.warning("OpenID Connect provider %s: no ID token in the answer", provider.name)
        raise ProviderFailed(_not_verified(provider))
    claims = dict(userinfo)
    if not claims.get("email") or not _full_name(claims):
        claims = await _with_userinfo(client, token, claims, provider)
    return claims


async def _with_userinfo(
    client: Any, token: dict[str, Any], claims: dict[str, Any], provider: OidcProvider
) -> dict[str, Any]:
    """Many providers put e-mail and name only in the userinfo answer; it counts only when
    its subject is the ID token's."""
    try:
        extra = dict(await client.userinfo(token=token))
    except (httpx.HTTPError, AuthlibBaseError, ValueError, KeyError, RuntimeError) as error:
        logger.warning("OpenID Connect provider %s: userinfo failed: %r", provider.name, error)
        return claims
    if str(extra.get("sub")) != str(claims["sub"]):
        logger.warning("OpenID Connect provider %s: userinfo for another subject", provider.name)
        return claims
    for key in ("email", "email_verified", "name", "given_name", "family_name"):
        if not claims.get(key) and extra.get(key):
            claims[key] = extra[key]
    return claims


def _full_name(claims: dict[str, Any]) -> str:
    name = claims.get("name")
    if isinstance(name, str) and name.strip():
        return name.strip()
    parts = [claims.get("given_name"), claims.get("family_name")]
    return " ".join(part.strip() for part in parts if isinstance(part, str) and part.strip())


def _email(claims: dict[str, Any]) -> str | None:
    email = claims.get("email")
    if isinstance(email, str) and "@" in email and len(email.strip()) <= MAX_EMAIL_LENGTH:
        return email.strip().lower()
    return None


# ----------------------------------------------------------------------------------------
# What an identity leads to


def _finish(
    request: Request,
    session: Session,
    viewer: Member | None,
    provider: OidcProvider,
    flow: dict[str, Any],
    claims: dict[str, Any],
) -> Response:
    """Sign in, link, or send to the application form, depending on who this identity is."""
    subject = str(claims["sub"])
    email = _email(claims)
    linking = (
        flow.get("intent") == "link" and viewer is not None and flow.get("member_id") == viewer.id
    )
    row = session.execute(
        select(OidcIdentity, Member)
        .join(Member, Member.id == OidcIdentity.member_id)
        .where(OidcIdentity.provider == provider.name, OidcIdentity.subject == subject)
    ).first()

    if row is not None:
        identity, member = row[0], row[1]
        if linking and viewer is not None:
            if member.id == viewer.id:
                flash(request, NOTICES["already_linked"], provider=provider.label)
                return redirect("/account/identities")
            problem = SignInProblem(
                _("This identity belongs to another account"),
                _(
                    "This %(provider)s identity is already linked to another member's account, "
                    "so it cannot be linked to yours. If that is your other account, sign in to "
                    "it and unlink the identity there first.",
                    provider=provider.label,
                ),
                status_code=409,
            )
            return _problem_page(request, provider, problem, linking=True)
        if not member.can_sign_in:
            problem = SignInProblem(
                _("You cannot sign in"),
                _("This account cannot sign in."),
                status_code=403,
            )
            return _problem_page(request, provider, problem)
        if email and identity.email != email:
            identity.email = email
        # The second factor, when the member has one, is still asked for.
        return auth_service.complete_sign_in(request, session, member, flow.get("next"))

    if linking and viewer is not None:
        session.add(
            OidcIdentity(member_id=viewer.id, provider=provider.name, subject=subject, email=email)
        )
        session.flush()
        flash(request, NOTICES["linked"], provider=provider.label)
        return redirect("/account/identities")

    if viewer is not None:
        problem = SignInProblem(
            _("This identity is not linked to your account"),
            _(
                "You are signed in, but this %(provider)s identity is not linked to your "
                "account. To sign in with it, link it from your account's linked identities.",
                provider=provider.label,
            ),
            status_code=409,
        )
        return _problem_page(request, provider, problem, linking=True)

    if email and session.scalar(select(Member.id).where(Member.email == email)) is not None:
        # Never sign in or link by e-mail alone: the provider's address is not proof that
        # this person controls the portal account.
        context = {"provider": provider, "email": email}
        return render(request, "auth/oidc_existing_account.html", context, status_code=409)

    request.session[APPLICATION_KEY] = {
        "provider": provider.name,
        "subject": subject,
        "email": email or "",
        "name": _full_name(claims),
    }
    return redirect("/apply")


# ----------------------------------------------------------------------------------------
# Routes


@router.get("/sign-in/oidc/{provider_name}", name="oidc_sign_in")
async def start_sign_in(request: Request, provider_name: str, next: str | None = None) -> Response:
    """Send the browser to the provider to sign in."""
    provider = configured_provider(request, provider_name)
    request.session[FLOW_KEY] = {
        "provider": provider.name,
        "intent": "sign_in",
        "next": auth_service.safe_next(next),
    }
    return await _redirect_to_provider(request, provider, linking=False)


@router.get("/sign-in/oidc/{provider_name}/callback", name="oidc_callback")
async def sign_in_callback(
    request: Request, provider_name: str, session: DbSession, viewer: Viewer
) -> Response:
    """The provider's answer: sign in, link the identity, or apply with a prefilled form."""
    provider = configured_provider(request, provider_name)
    flow = request.session.pop(FLOW_KEY, None)
    if not isinstance(flow, dict) or flow.get("provider") != provider.name:
        flow = {"intent": "sign_in", "next": "/"}
    try:
        claims = await verified_claims(request, provider)
    except ProviderFailed as failure:
        return _problem_page(request, provider, failure.problem, linking=flow["intent"] == "link")
    return await run_in_threadpool(_finish, request, session, viewer, provider, flow, claims)


@router.get("/account/identities", name="account_identities")
def identities_page(request: Request, session: DbSession, viewer: SignedIn) -> Response:
    """The member's linked identities, with unlink buttons and links to link more."""
    return _render_identities(request, session, viewer)


@router.get("/account/identities/link/{provider_name}", name="oidc_link")
async def start_link(
    request: Request,
    provider_name: str,
    session: DbSession,
    viewer: SignedIn,
    csrf_token: str = "",
) -> Response:
    """Send the browser to the provider to link an identity to the signed-in member.

    A GET (see the module's docstring), so it carries the session's CSRF token: another
    site must not start a link while the browser is signed in to someone else's account
    at the provider, which would let that account sign in here.
    """
    provider = configured_provider(request, provider_name)
    expected = request.session.get(CSRF_SESSION_KEY)
    if not isinstance(expected, str) or not hmac.compare_digest(
        expected.encode(), csrf_token.encode()
    ):
        return redirect("/account/identities")
    already = await run_in_threadpool(_linked_providers, session, viewer.id)
    if provider.name in already:
        flash(request, NOTICES["already_linked"], provider=provider.label)
        return redirect("/account/identities")
    request.session[FLOW_KEY] = {
        "provider": provider.name,
        "intent": "link",
        "member_id": viewer.id,
    }
    return await _redirect_to_provider(request, provider, linking=True)


@router.post("/account/identities/{identity_id}/unlink", name="oidc_unlink")
def unlink(request: Request, identity_id: int, session: DbSession, viewer: SignedIn) -> Response:
    """Unlink an identity, unless it is the member's last way to sign in."""
    identities = _identities(session, viewer.id)
    identity = next((item for item in identities if item.id == identity_id), None)
    if identity is None:
        raise NotFound()
    if viewer.password_hash is None and len(identities) <= 1:
        error = _(
            "This is your only way to sign in: set a password first (Sign-in and security), "
            "then you can unlink it."
        )
        return _render_identities(
            request, session, viewer, identities=identities, error=error, status_code=422
        )
    session.delete(identity)
    session.flush()
    label = _provider_labels(request).get(identity.provider, identity.provider)
    flash(request, NOTICES["unlinked"], provider=label)
    return redirect("/account/identities")


# ----------------------------------------------------------------------------------------
# The identities page


def _identities(session: Session, member_id: int) -> list[OidcIdentity]:
    statement = (
        select(OidcIdentity)
        .where(OidcIdentity.member_id == member_id)
        .order_by(OidcIdentity.created_at, OidcIdentity.id)
    )
    return list(session.scalars(statement))


def _linked_providers(session: Session, member_id: int) -> set[str]:
    statement = select(OidcIdentity.provider).where(OidcIdentity.member_id == member_id)
    return set(session.scalars(statement))


def _provider_labels(request: Request) -> dict[str, str]:
    return {provider.name: provider.label for provider in _settings(request).oidc_providers}


def _render_identities(
    request: Request,
    session: Session,
    viewer: Member,
    *,
    identities: list[OidcIdentity] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    if identities is None:
        identities = _identities(session, viewer.id)
    linked = {identity.provider for identity in identities}
    context = {
        "identities": identities,
        "labels": _provider_labels(request),
        "linkable": [p for p in _settings(request).oidc_providers if p.name not in linked],
        "has_password": viewer.password_hash is not None,
        "notice": pop_notice(request),
        "error": error,
    }
    return render(request, "account/identities.html", context, status_code=status_code)
