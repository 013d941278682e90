"""Single sign-on end to end against a real OpenID Connect provider on loopback."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pyotp
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import OidcIdentity
from app.auth.oidc import APPLICATION_KEY
from app.config import OidcProvider, Settings
from app.db import utcnow
from app.main import create_app
from app.members.models import Member
from tests import factories
from tests.conftest import PortalClient
from tests.factories import TEST_TOTP_SECRET
from tests.oidc_fixtures import (
    ACCOUNTS,
    CLIENT_ID,
    CLIENT_SECRET,
    PROVIDER_NAME,
    RunningProvider,
    portal_client,
    read_portal_session,
    run_provider,
    sign_in_with_provider,
    visit_provider,
    write_portal_session,
)
from tests.ports import free_port

pytest_plugins = ["tests.oidc_fixtures"]

START = f"/sign-in/oidc/{PROVIDER_NAME}"


def _signed_in(client: PortalClient) -> bool:
    response = client.get("/account/identities", follow_redirects=False)
    return bool(response.status_code == 200)


def _identity(member: Member, subject: str, email: str | None = None) -> OidcIdentity:
    return OidcIdentity(member_id=member.id, provider=PROVIDER_NAME, subject=subject, email=email)


def _link_path(client: PortalClient, provider: str = PROVIDER_NAME) -> str:
    """The "Link" link of the identities page, with the session's CSRF token."""
    token = client.csrf_token("/account/identities")
    return f"/account/identities/link/{provider}?{urlencode({'csrf_token': token})}"


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


# ----------------------------------------------------------------------------------------
# Starting


def test_start_redirects_to_provider_with_pkce_nonce_and_configured_callback(
    oidc_client: PortalClient, oidc_provider: RunningProvider
) -> None:
    # The Host header is the attacker's to choose; the callback comes from the settings.
    response = oidc_client.get(START, headers={"host": "evil.example"}, follow_redirects=False)

    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(oidc_provider.issuer + "/auth?")
    query = parse_qs(urlsplit(location).query)
    assert query["response_type"] == ["code"]
    assert query["client_id"] == [oidc_provider.client_id]
    assert query["redirect_uri"] == [f"http://testserver/sign-in/oidc/{PROVIDER_NAME}/callback"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) >= 43
    assert query["nonce"][0]
    assert query["state"][0]
    assert set(query["scope"][0].split()) == {"openid", "email", "profile"}


def test_unknown_provider_is_404(oidc_client: PortalClient) -> None:
    assert oidc_client.get("/sign-in/oidc/nope", follow_redirects=False).status_code == 404
    assert oidc_client.get("/sign-in/oidc/nope/callback").status_code == 404


def test_unreachable_provider_shows_a_page_with_a_way_back(oidc_client: PortalClient) -> None:
    response = oidc_client.get("/sign-in/oidc/down", follow_redirects=False)

    assert response.status_code == 502
    assert "Down IdP cannot be reached" in response.text
    assert 'href="/sign-in"' in response.text
    assert "oidc_flow" not in read_portal_session(oidc_client)


# ----------------------------------------------------------------------------------------
# The callback


def test_unknown_identity_goes_to_a_prefilled_application(
    oidc_client: PortalClient, provider_browser: httpx.Client, db_session: Session
) -> None:
    visit = visit_provider(oidc_client, provider_browser, START, login="grace")
    assert visit.prompts == ["login", "consent"]

    response = oidc_client.get(visit.callback_url, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/apply"
    # The ID token of this provider carries only the subject: the e-mail address and name
    # came from the userinfo endpoint, for the same subject.
    assert read_portal_session(oidc_client)[APPLICATION_KEY] == {
        "provider": PROVIDER_NAME,
        "subject": "grace",
        "email": ACCOUNTS["grace"]["email"],
        "name": ACCOUNTS["grace"]["name"],
    }
    assert not _signed_in(oidc_client)
    assert db_session.scalars(select(OidcIdentity)).all() == []
    # The application form is filled in from the session.
    form = oidc_client.get("/apply")
    assert form.status_code == 200
    assert re.search(r'<input[^>]*name="full_name"[^>]*value="Grace Hopper"', form.text)
    assert re.search(r'<input[^>]*name="email"[^>]*value="grace.hopper@idp.example"', form.text)


def test_public_client_signs_in_with_pkce_alone(
    oidc_client: PortalClient, provider_browser: httpx.Client, db_session: Session
) -> None:
    member = factories.member(full_name="Public Ada")
    db_session.add(OidcIdentity(member_id=member.id, provider="public", subject="ada"))
    db_session.flush()

    response = sign_in_with_provider(
        oidc_client, provider_browser, "/sign-in/oidc/public", login="ada"
    )

    assert response.status_code == 303
    assert "Public Ada" in oidc_client.get("/account/identities").text


def test_known_identity_signs_in_and_follows_next(
    oidc_client: PortalClient, provider_browser: httpx.Client, db_session: Session
) -> None:
    member = factories.member(full_name="Ada Known")
    db_session.add(_identity(member, "ada", email="old@idp.example"))
    db_session.flush()

    response = sign_in_with_provider(
        oidc_client, provider_browser, START + "?next=/account/identities", login="ada"
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/account/identities"
    page = oidc_client.get("/account/identities")
    assert page.status_code == 200
    assert "Ada Known" in page.text
    assert APPLICATION_KEY not in read_portal_session(oidc_client)
    identity = db_session.scalars(select(OidcIdentity)).one()
    assert identity.email == ACCOUNTS["ada"]["email"]  # kept up to date


def test_next_must_stay_on_the_portal(
    oidc_client: PortalClient, provider_browser: httpx.Client, db_session: Session
) -> None:
    member = factories.member()
    db_session.add(_identity(member, "ada"))
    db_session.flush()

    response = sign_in_with_provider(
        oidc_client, provider_browser, START + "?next=//evil.example/", login="ada"
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_suspended_member_is_refused(
    oidc_client: PortalClient, provider_browser: httpx.Client, db_session: Session
) -> None:
    member = factories.member(status="suspended")
    db_session.add(_identity(member, "ada"))
    db_session.flush()

    response = sign_in_with_provider(oidc_client, provider_browser, login="ada")

    assert response.status_code == 403
    assert "This account cannot sign in." in response.text
    assert not _signed_in(oidc_client)


def test_member_with_two_factor_still_needs_the_code(
    oidc_client: PortalClient, provider_browser: httpx.Client, db_session: Session
) -> None:
    member = factories.member(totp_secret=TEST_TOTP_SECRET, totp_enabled_at=utcnow())
    db_session.add(_identity(member, "ada"))
    db_session.flush()

    response = sign_in_with_provider(
        oidc_client, provider_browser, START + "?next=/account/identities", login="ada"
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in/two-factor"
    assert not _signed_in(oidc_client)
    code = pyotp.TOTP(TEST_TOTP_SECRET).now()
    second = oidc_client.post_form("/sign-in/two-factor", {"code": code}, follow_redirects=False)
    assert second.status_code == 303
    assert second.headers["location"] == "/account/identities"
    assert _signed_in(oidc_client)


def test_email_of_an_existing_member_is_not_signed_in_or_linked(
    oidc_client: PortalClient, provider_browser: httpx.Client, db_session: Session
) -> None:
    factories.member(email=ACCOUNTS["ada"]["email"])

    response = sign_in_with_provider(oidc_client, provider_browser, login="ada")

    assert response.status_code == 409
    assert "You already have an account" in response.text
    assert "Link Test IdP" in response.text
    assert "/sign-in?next=/account/identities" in response.text
    assert not _signed_in(oidc_client)
    assert APPLICATION_KEY not in read_portal_session(oidc_client)
    assert db_session.scalars(select(OidcIdentity)).all() == []


def test_tampered_state_is_refused(
    oidc_client: PortalClient, provider_browser: httpx.Client, db_session: Session
) -> None:
    member = factories.member()
    db_session.add(_identity(member, "ada"))
    db_session.flush()
    visit = visit_provider(oidc_client, provider_browser, START, login="ada")

    response = oidc_client.get(_with_query(visit.callback_url, state="forged-state"))

    assert response.status_code == 400
    assert "This sign-in has expired" in response.text
    assert 'href="/sign-in"' in response.text
    assert not _signed_in(oidc_client)


def test_callback_without_a_started_sign_in_is_refused(oidc_client: PortalClient) -> None:
    response = oidc_client.get(f"{START}/callback?code=abc&state=def")

    assert response.status_code == 400
    assert "This sign-in has expired" in response.text


def test_id_token_with_another_nonce_is_refused(
    oidc_client: PortalClient, provider_browser: httpx.Client, db_session: Session
) -> None:
    member = factories.member()
    db_session.add(_identity(member, "ada"))
    db_session.flush()
    visit = visit_provider(oidc_client, provider_browser, START, login="ada")
    # The nonce this browser sent is kept with the state in the signed session; make it
    # differ from the one the provider put in the ID token, as with a replayed ID token.
    data = read_portal_session(oidc_client)
    state = parse_qs(urlsplit(visit.callback_url).query)["state"][0]
    stored = data[f"_state_{PROVIDER_NAME}_{state}"]["data"]
    assert stored["nonce"] == parse_qs(urlsplit(visit.authorization_url).query)["nonce"][0]
    stored["nonce"] = "another-nonce"
    write_portal_session(oidc_client, data)

    response = oidc_client.get(visit.callback_url)

    assert response.status_code == 400
    assert "could not be verified" in response.text
    assert not _signed_in(oidc_client)


def test_authorization_code_is_single_use(
    oidc_client: PortalClient, provider_browser: httpx.Client, db_session: Session
) -> None:
    member = factories.member()
    db_session.add(_identity(member, "ada"))
    db_session.flush()
    visit = visit_provider(oidc_client, provider_browser, START, login="ada")
    saved = read_portal_session(oidc_client)
    assert oidc_client.get(visit.callback_url, follow_redirects=False).status_code == 303

    # Replaying the callback with the first browser's session: the state matches again, but
    # the provider refuses the used code.
    oidc_client.cookies.clear()
    write_portal_session(oidc_client, saved)
    response = oidc_client.get(visit.callback_url)

    assert response.status_code == 400
    assert "could not be verified" in response.text
    assert not _signed_in(oidc_client)


def test_provider_going_down_before_the_callback_shows_a_page(
    settings: Settings, db_session: Session, tmp_path: Path
) -> None:
    port = free_port()
    entry = OidcProvider(
        name=PROVIDER_NAME,
        label="Short-lived IdP",
        issuer=f"http://127.0.0.1:{port}",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
    )
    app = create_app(
        settings.model_copy(update={"base_url": "http://testserver", "oidc_providers": [entry]})
    )
    callback = f"http://testserver/sign-in/oidc/{PROVIDER_NAME}/callback"
    with portal_client(app, db_session) as portal, httpx.Client() as browser:
        with run_provider([callback], tmp_path, port=port):
            visit = visit_provider(portal, browser, START, login="ada")
        # The provider has stopped: the code cannot be exchanged.
        response = portal.get(visit.callback_url)
    app.state.engine.dispose()

    assert response.status_code == 502
    assert "Short-lived IdP cannot be reached" in response.text
    assert 'href="/sign-in"' in response.text


def test_cancelling_at_the_provider_shows_a_friendly_page(
    oidc_client: PortalClient, provider_browser: httpx.Client
) -> None:
    visit = visit_provider(oidc_client, provider_browser, START, login="ada", cancel=True)
    assert "error=access_denied" in visit.callback_url

    response = oidc_client.get(visit.callback_url)

    assert response.status_code == 400
    assert "Sign-in was cancelled" in response.text
    assert "Test IdP did not confirm who you are" in response.text
    assert 'href="/sign-in"' in response.text
    assert 'href="/sign-in/oidc/testidp"' in response.text


# ----------------------------------------------------------------------------------------
# Linking from the account page


def test_identities_page_offers_to_link_each_provider(
    oidc_client: PortalClient, db_session: Session
) -> None:
    member = factories.member()
    oidc_client.sign_in_as(db_session, member)

    page = oidc_client.get("/account/identities")

    assert page.status_code == 200
    assert "No identity is linked to your account yet." in page.text
    assert 'href="/account/identities/link/testidp?csrf_token=' in page.text
    assert "Link Test IdP" in page.text
    assert "Link Down IdP" in page.text
    assert 'aria-current="page"' in page.text  # the account navigation


def test_identities_page_needs_sign_in(oidc_client: PortalClient) -> None:
    response = oidc_client.get("/account/identities", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=%2Faccount%2Fidentities"
    link = oidc_client.get("/account/identities/link/testidp", follow_redirects=False)
    assert link.headers["location"].startswith("/sign-in?")


def test_member_links_an_identity_then_signs_in_with_it(
    oidc_client: PortalClient, provider_browser: httpx.Client, db_session: Session
) -> None:
    member = factories.member(full_name="Katherine Member")
    oidc_client.sign_in_as(db_session, member)

    response = sign_in_with_provider(
        oidc_client, provider_browser, _link_path(oidc_client), login="katherine"
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/account/identities"
    identity = db_session.scalars(select(OidcIdentity)).one()
    assert (identity.member_id, identity.provider, identity.subject, identity.email) == (
        member.id,
        PROVIDER_NAME,
        "katherine",
        ACCOUNTS["katherine"]["email"],
    )
    page = oidc_client.get("/account/identities")
    assert "Your Test IdP identity is linked." in page.text
    assert ACCOUNTS["katherine"]["email"] in page.text
    assert "Link Test IdP" not in page.text
    assert "Link Down IdP" in page.text

    # A new browser signs in with it.
    oidc_client.cookies.clear()
    provider_browser.cookies.clear()
    again = sign_in_with_provider(oidc_client, provider_browser, login="katherine")
    assert again.status_code == 303
    assert "Katherine Member" in oidc_client.get("/account/identities").text


def test_link_needs_the_csrf_token(oidc_client: PortalClient, db_session: Session) -> None:
    oidc_client.sign_in_as(db_session, factories.member())

    for path in (
        "/account/identities/link/testidp",
        "/account/identities/link/testidp?csrf_token=forged",
        "/account/identities/link/testidp?csrf_token=%C3%A9",
    ):
        response = oidc_client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/account/identities"
    assert "oidc_flow" not in read_portal_session(oidc_client)


def test_linking_an_identity_of_another_member_is_refused(
    oidc_client: PortalClient, provider_browser: httpx.Client, db_session: Session
) -> None:
    owner = factories.member()
    db_session.add(_identity(owner, "ada"))
    viewer = factories.member()
    oidc_client.sign_in_as(db_session, viewer)

    response = sign_in_with_provider(
        oidc_client, provider_browser, _link_path(oidc_client), login="ada"
    )

    assert response.status_code == 409
    assert "already linked to another member" in response.text
    assert 'href="/account/identities"' in response.text
    identities = db_session.scalars(select(OidcIdentity)).all()
    assert [(i.member_id, i.subject) for i in identities] == [(owner.id, "ada")]
    # Still the viewer, not the owner.
    assert viewer.full_name in oidc_client.get("/account/identities").text


def test_linking_an_identity_already_linked_to_me_says_so(
    oidc_client: PortalClient, provider_browser: httpx.Client, db_session: Session
) -> None:
    member = factories.member()
    db_session.add(OidcIdentity(member_id=member.id, provider="down", subject="x"))
    db_session.add(_identity(member, "ada"))
    db_session.flush()
    oidc_client.sign_in_as(db_session, member)

    # The page no longer offers the link; following an old one says it is done.
    response = oidc_client.get(_link_path(oidc_client), follow_redirects=False)
    assert response.headers["location"] == "/account/identities"
    assert "already linked to your account" in oidc_client.get("/account/identities").text


def test_linking_the_same_subject_again_says_it_is_linked(
    oidc_client: PortalClient, provider_browser: httpx.Client, db_session: Session
) -> None:
    member = factories.member()
    oidc_client.sign_in_as(db_session, member)
    visit = visit_provider(oidc_client, provider_browser, _link_path(oidc_client), login="ada")
    # Linked meanwhile (in another tab, say) before this answer arrives.
    db_session.add(_identity(member, "ada"))
    db_session.flush()

    response = oidc_client.get(visit.callback_url, follow_redirects=False)

    assert response.headers["location"] == "/account/identities"
    assert "already linked to your account" in oidc_client.get("/account/identities").text
    assert len(db_session.scalars(select(OidcIdentity)).all()) == 1


def test_signed_in_member_without_link_intent_is_not_linked(
    oidc_client: PortalClient, provider_browser: httpx.Client, db_session: Session
) -> None:
    member = factories.member()
    oidc_client.sign_in_as(db_session, member)

    response = sign_in_with_provider(oidc_client, provider_browser, login="grace")

    assert response.status_code == 409
    assert "not linked to your account" in response.text
    assert db_session.scalars(select(OidcIdentity)).all() == []


def test_cancelled_link_leads_back_to_the_identities_page(
    oidc_client: PortalClient, provider_browser: httpx.Client, db_session: Session
) -> None:
    oidc_client.sign_in_as(db_session, factories.member())
    visit = visit_provider(
        oidc_client, provider_browser, _link_path(oidc_client), login="", cancel=True
    )

    response = oidc_client.get(visit.callback_url)

    assert response.status_code == 400
    assert 'href="/account/identities"' in response.text


def test_link_to_an_unreachable_provider_shows_a_page(
    oidc_client: PortalClient, db_session: Session
) -> None:
    oidc_client.sign_in_as(db_session, factories.member())

    response = oidc_client.get(_link_path(oidc_client, "down"))

    assert response.status_code == 502
    assert 'href="/account/identities"' in response.text


# ----------------------------------------------------------------------------------------
# Unlinking


def test_member_with_password_unlinks_an_identity(
    oidc_client: PortalClient, db_session: Session
) -> None:
    member = factories.member()
    identity = _identity(member, "ada", email="ada@idp.example")
    db_session.add(identity)
    db_session.flush()
    oidc_client.sign_in_as(db_session, member)
    page = oidc_client.get("/account/identities")
    assert "ada@idp.example" in page.text
    assert f'action="/account/identities/{identity.id}/unlink"' in page.text

    response = oidc_client.post_form(
        f"/account/identities/{identity.id}/unlink", {}, follow_redirects=False
    )

    assert response.status_code == 303
    assert db_session.scalars(select(OidcIdentity)).all() == []
    assert "no longer linked" in oidc_client.get("/account/identities").text


def test_last_way_to_sign_in_cannot_be_unlinked(
    oidc_client: PortalClient, db_session: Session
) -> None:
    member = factories.member(password_hash=None)
    identity = _identity(member, "ada")
    db_session.add(identity)
    db_session.flush()
    oidc_client.sign_in_as(db_session, member)

    response = oidc_client.post_form(f"/account/identities/{identity.id}/unlink", {})

    assert response.status_code == 422
    assert "This is your only way to sign in" in response.text
    assert db_session.scalars(select(OidcIdentity)).all() == [identity]


def test_member_without_password_may_unlink_one_of_two(
    oidc_client: PortalClient, db_session: Session
) -> None:
    member = factories.member(password_hash=None)
    first = _identity(member, "ada")
    db_session.add_all([first, OidcIdentity(member_id=member.id, provider="down", subject="x")])
    db_session.flush()
    oidc_client.sign_in_as(db_session, member)

    response = oidc_client.post_form(
        f"/account/identities/{first.id}/unlink", {}, follow_redirects=False
    )

    assert response.status_code == 303
    assert [i.provider for i in db_session.scalars(select(OidcIdentity))] == ["down"]


def test_unlinking_someone_elses_identity_is_404(
    oidc_client: PortalClient, db_session: Session
) -> None:
    other = _identity(factories.member(), "ada")
    db_session.add(other)
    db_session.flush()
    oidc_client.sign_in_as(db_session, factories.member())

    response = oidc_client.post_form(f"/account/identities/{other.id}/unlink", {})

    assert response.status_code == 404
    assert db_session.scalars(select(OidcIdentity)).all() == [other]


def test_unlink_needs_the_csrf_token(oidc_client: PortalClient, db_session: Session) -> None:
    member = factories.member()
    identity = _identity(member, "ada")
    db_session.add(identity)
    db_session.flush()
    oidc_client.sign_in_as(db_session, member)

    response = oidc_client.post(f"/account/identities/{identity.id}/unlink")

    assert response.status_code == 403
    assert db_session.scalars(select(OidcIdentity)).all() == [identity]


# ----------------------------------------------------------------------------------------
# The sign-in page's buttons


def test_sign_in_page_has_a_link_per_provider(oidc_client: PortalClient) -> None:
    page = oidc_client.get("/sign-in?next=/account/identities")

    assert page.status_code == 200
    assert "Sign in with Test IdP" in page.text
    assert "Sign in with Down IdP" in page.text
    assert 'href="/sign-in/oidc/testidp?next=/account/identities"' in page.text
    # A plain link: htmx must not fetch the provider's page, the browser goes there.
    link = re.search(r'<a[^>]*href="/sign-in/oidc/testidp[^"]*"[^>]*>', page.text)
    assert link
    assert 'hx-boost="false"' in link.group(0)


def test_sign_in_page_without_providers_has_no_sso_section(client: PortalClient) -> None:
    page = client.get("/sign-in")

    assert page.status_code == 200
    assert "/sign-in/oidc/" not in page.text
    assert "Or use another account" not in page.text
