"""Dependencies that tell who is asking."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session
from starlette.requests import Request

from app.db import get_session
from app.members import repository as members_repository
from app.members.models import Member

SESSION_MEMBER_KEY = "member_id"

DbSession = Annotated[Session, Depends(get_session, scope="function")]


def load_viewer(request: Request, session: DbSession) -> Member | None:
    """The signed-in member (or None), also kept on ``request.state`` for the layout."""
    member_id = request.session.get(SESSION_MEMBER_KEY)
    viewer = None
    if isinstance(member_id, int):
        viewer = members_repository.get(session, member_id)
        if viewer is not None and not viewer.is_active:
            viewer = None
        if viewer is None:
            request.session.pop(SESSION_MEMBER_KEY, None)
    request.state.viewer = viewer
    return viewer


Viewer = Annotated[Member | None, Depends(load_viewer)]
