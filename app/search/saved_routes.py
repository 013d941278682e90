"""Saved searches: save the current search, list and manage them, unsubscribe in one click."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from app.auth.deps import ActiveMember, DbSession, load_viewer
from app.kit.errors import NotFound
from app.kit.i18n import N_, _, ngettext
from app.search import saved as saved_searches
from app.web import PostedForm, flash, form_text, redirect, render

router = APIRouter(dependencies=[Depends(load_viewer)])

LIST_PATH = "/account/searches"
ONE_CLICK_FIELD = "List-Unsubscribe"
ONE_CLICK_VALUE = "One-Click"
NOTICES = {
    "saved": N_(
        "Search saved as “%(name)s”. You will get an e-mail when something new matches it."
    ),
    "already_saved": N_("You had already saved this search, as “%(name)s”."),
    "alerts_on": N_("Alerts are on for “%(name)s”."),
    "alerts_off": N_("Alerts are off for “%(name)s”."),
    "deleted": N_("The saved search “%(name)s” is deleted."),
}


@router.post("/search/saved", name="search_save")
def save_search(
    request: Request,
    session: DbSession,
    viewer: ActiveMember,
    query: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
) -> Response:
    """Save the search the member is looking at, then go back to it."""
    try:
        saved, created = saved_searches.save(session, viewer.id, query, name)
    except saved_searches.InvalidSavedSearch as error:
        context = {
            "errors": error.errors,
            "name": name,
            "query": saved_searches.normalised_query(query),
        }
        return render(request, "search/saved_form.html", context, status_code=422)
    if created:
        flash(request, NOTICES["saved"], name=saved.name)
    else:
        flash(request, NOTICES["already_saved"], name=saved.name)
    return redirect("/search?" + saved.query if saved.query else "/search")


@router.get("/search/saved")
def saved_searches_elsewhere() -> Response:
    """The list lives with the account pages."""
    return redirect(LIST_PATH)


@router.get(LIST_PATH, name="saved_searches")
def saved_searches_page(request: Request, session: DbSession, viewer: ActiveMember) -> Response:
    """The member's saved searches, with their alerts."""
    searches = saved_searches.list_for(session, viewer.id)
    context = {
        "searches": searches,
        "descriptions": {saved.id: _describe(saved.query) for saved in searches},
        "limit": saved_searches.MAX_SAVED_PER_MEMBER,
    }
    return render(request, "search/saved_list.html", context)


def _describe(query: str) -> str:
    """A short reminder of what a saved search looks for."""
    search = saved_searches.normalise(query)
    kinds = {
        "programme": _("Programmes"),
        "evaluation": _("Evaluations"),
        "member": _("Members"),
        "organisation": _("Organisations"),
    }
    parts = [kinds.get(search.kind, search.kind)]
    if search.text:
        parts.append(f"“{search.text}”")
    filters = sum(len(codes) for codes in search.filters.values())
    if filters:
        parts.append(ngettext("%(num)s filter", "%(num)s filters", filters))
    return " · ".join(parts)


@router.post(LIST_PATH + "/{saved_id:int}/alerts", name="saved_search_alerts")
def toggle_alerts(
    request: Request,
    session: DbSession,
    viewer: ActiveMember,
    saved_id: int,
    alerts: Annotated[str, Form()] = "",
) -> Response:
    """Turn a saved search's daily e-mail on or off."""
    saved = saved_searches.get_own(session, viewer.id, saved_id)
    if saved is None:
        raise NotFound()
    enabled = alerts == "on"
    saved_searches.set_alerts(saved, enabled)
    if enabled:
        flash(request, NOTICES["alerts_on"], name=saved.name)
    else:
        flash(request, NOTICES["alerts_off"], name=saved.name)
    return redirect(LIST_PATH)


@router.post(LIST_PATH + "/{saved_id:int}/delete", name="saved_search_delete")
def delete_search(
    request: Request, session: DbSession, viewer: ActiveMember, saved_id: int
) -> Response:
    """Delete one of the member's saved searches."""
    saved = saved_searches.get_own(session, viewer.id, saved_id)
    if saved is None:
        raise NotFound()
    name = saved.name
    saved_searches.delete(session, saved)
    flash(request, NOTICES["deleted"], name=name)
    return redirect(LIST_PATH)


@router.get("/search/alerts/unsubscribe/{token}", name="search_alerts_unsubscribe")
def unsubscribe_page(request: Request, session: DbSession, token: str) -> Response:
    """The page of an unsubscribe link: one button, no sign-in needed."""
    found = saved_searches.by_unsubscribe_token(session, token)
    if found is None:
        raise NotFound()
    context = {
        "unsubscription": found,
        "token": token,
        "done": request.query_params.get("done") == "1",
    }
    return render(request, "search/saved_unsubscribe.html", context)


@router.post("/search/alerts/unsubscribe/{token}")
def unsubscribe(request: Request, session: DbSession, form: PostedForm, token: str) -> Response:
    """Turn the alerts off; the token is the authority (RFC 8058 one-click included)."""
    found = saved_searches.by_unsubscribe_token(session, token)
    if found is None:
        raise NotFound()
    saved_searches.unsubscribe(found)
    if form_text(form, ONE_CLICK_FIELD) == ONE_CLICK_VALUE:
        # A mail client's one-click request: nobody reads the answer, so no page.
        return PlainTextResponse(_("Search alerts are off."))
    return redirect(f"{saved_searches.unsubscribe_path(token)}?{urlencode({'done': '1'})}")
