"""Every route is reached by its own addresses: the order of the routers shadows none.

``app.main.ROUTERS`` puts the most requested routers first; this holds it to its claim
that the order changes nothing else.
"""

from __future__ import annotations

import re
from typing import cast

import pytest
from fastapi import FastAPI
from jinja2.runtime import Context
from starlette.requests import Request
from starlette.routing import Match, NoMatchFound, Route

from app import web
from app.main import ROUTERS
from app.web import templates

_PARAMETER = re.compile(r"\{(\w+)(?::(\w+))?\}")


def _sample(path: str) -> str:
    """An address the route template ``path`` answers: numbers for int parameters."""
    return _PARAMETER.sub(lambda m: "7" if m.group(2) == "int" else "sample", path)


def _routes() -> list[tuple[int, Route]]:
    routes = [(number, route) for number, router in enumerate(ROUTERS) for route in router.routes]
    assert all(isinstance(route, Route) for _, route in routes)
    return cast(list[tuple[int, Route]], routes)


def test_each_route_is_the_first_to_match_its_own_addresses() -> None:
    routes = _routes()
    assert len(routes) > 100
    for number, route in routes:
        for method in sorted(route.methods or {"GET"}):
            scope = {"type": "http", "method": method, "path": _sample(route.path)}
            first = next(
                (other, candidate)
                for other, candidate in routes
                if candidate.matches(scope)[0] == Match.FULL
            )
            # Within one router the order is the module's own (and deliberate).
            assert first[0] == number, f"{method} {route.path} is shadowed by {first[1].path}"


def test_pages_name_routes_by_their_paths_under_the_sites_root(app: FastAPI) -> None:
    def address(root_path: str, name: str, **params: str) -> str:
        request = Request({"type": "http", "app": app, "root_path": root_path, "headers": []})
        return str(
            web.url_for(Context(templates.env, {"request": request}, "page", {}), name, **params)
        )

    assert address("", "about") == "/about"
    assert address("", "static", path="css/portal.css") == "/static/css/portal.css"
    assert address("", "static", path="img/logo.svg") == "/static/img/logo.svg"
    # Behind a proxy that serves the portal under a prefix; the path is worked out once.
    assert address("/portal", "about") == "/portal/about"
    with pytest.raises(NoMatchFound):
        address("", "no-such-page")
