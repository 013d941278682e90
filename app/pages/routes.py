"""The home page and the network's informational pages."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from app.auth.deps import DbSession, load_viewer
from app.pages import service
from app.web import render

router = APIRouter(dependencies=[Depends(load_viewer)])


@router.get("/", name="home")
def home(request: Request, session: DbSession) -> Response:
    """The front door: what the network is, who it serves, and how big it is."""
    context = {"stats": service.network_statistics(session), "target_groups": service.TARGET_GROUPS}
    return render(request, "pages/home.html", context)


@router.get("/about", name="about")
def about(request: Request) -> Response:
    """What the network is and how it works."""
    return render(request, "pages/about.html", {"target_groups": service.TARGET_GROUPS})


@router.get("/privacy", name="privacy")
def privacy(request: Request) -> Response:
    """The privacy notice."""
    return render(request, "pages/privacy.html", {"version": service.PRIVACY_NOTICE_VERSION})
