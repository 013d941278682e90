"""Templates and the page-or-fragment rendering every HTML route uses."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import Annotated, Any

from fastapi import Depends
from jinja2 import nodes, pass_context
from jinja2.runtime import Context
from jinja2_fragments.fastapi import Jinja2Blocks
from markupsafe import Markup
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from app.config import PROJECT_ROOT, SUPPORTED_LANGUAGES, get_settings
from app.kit import i18n
from app.kit.csrf import csrf_token
from app.kit.memo import Memo
from app.members import vocabulary

templates = Jinja2Blocks(directory=str(PROJECT_ROOT / "templates"))
templates.env.add_extension("jinja2.ext.i18n")
templates.env.install_gettext_callables(  # type: ignore[attr-defined]
    gettext=lambda message, **kw: i18n.gettext(message, **kw),
    ngettext=lambda singular, plural, n, **kw: i18n.ngettext(singular, plural, n, **kw),
    newstyle=True,
)


NOTICE_KEY = "notice"


def flash(request: Request, message: str, **values: str | int) -> None:
    """A notice shown once, on the next page this browser sees.

    ``message`` is translated when it is shown, in the reader's language, and ``values``
    are filled into it then; text translated already is shown as it is.
    """
    request.session[NOTICE_KEY] = {"message": message, "values": values}


def pop_notice(request: Request) -> str | None:
    """The pending notice, translated, once; ``None`` when there is none."""
    if "session" not in request.scope:
        return None
    stored = request.session.pop(NOTICE_KEY, None)
    if isinstance(stored, str):
        return stored
    if not isinstance(stored, dict) or not isinstance(stored.get("message"), str):
        return None
    values = stored.get("values")
    return i18n.gettext(stored["message"], **(values if isinstance(values, dict) else {}))


async def posted_form(request: Request) -> FormData:
    """The posted form, read once (the route itself runs in a worker thread)."""
    return await request.form()


# A route's posted form, as a dependency.
PostedForm = Annotated[FormData, Depends(posted_form)]


def form_text(form: FormData, name: str) -> str:
    """One text field of a posted form ("" when missing or a file)."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


def page_href(request: Request) -> Callable[[int], str]:
    """For the pagination macro: the address of a page, keeping the rest of the query."""
    return lambda number: "?" + str(request.url.include_query_params(page=number).query)


@pass_context
def url_for(context: Context, name: str, /, **path_params: Any) -> str:
    """The address of a named route as a path from the site's root (the same on every host).

    Starlette's own asks every route for the name on each call; a page's few addresses
    are worked out once per application instead.
    """
    request: Request = context["request"]
    paths: Memo[str] | None = getattr(request.app.state, "route_paths", None)
    if paths is None:
        # Per application: (route name, parameters) -> path; pages name a few dozen.
        paths = request.app.state.route_paths = Memo(1024)
    key = (name, tuple(sorted(path_params.items())))
    path = paths.get(key)
    if path is None:
        path = str(request.app.url_path_for(name, **path_params))
        paths.put(key, path)
    return str(request.scope.get("root_path", "")) + path


templates.env.globals.update(
    url_for=url_for,
    pop_notice=pop_notice,
    page_href=page_href,
    csrf_token=csrf_token,
    get_locale=i18n.get_locale,
    language_names=i18n.LANGUAGE_NAMES,
    supported_languages=SUPPORTED_LANGUAGES,
    settings=get_settings,
)
templates.env.filters.update(
    format_date=i18n.format_date,
    format_number=i18n.format_number,
    country_name=vocabulary.country_name,
    language_name=vocabulary.language_name,
    expertise_label=vocabulary.expertise_label,
    markdown=lambda text: _render_markdown(text),
    plain_text=lambda text, limit=None: _plain_text(text, limit),
    cite_text=lambda evaluation: _cite_text(evaluation),
)
templates.env.globals.update(
    rating_label=lambda level: _rating_label(level),
    rating_badge=lambda level: _rating_badge(level),
)


def _rating_label(level: str) -> str:
    """The label of an evidence rating level in the reader's language."""
    from app.evidence.rating import LEVEL_LABELS

    return i18n.gettext(LEVEL_LABELS[level]) if level in LEVEL_LABELS else level


def _rating_badge(level: str) -> str:
    """The badge class of an evidence rating level."""
    from app.evidence.views import LEVEL_BADGES

    return LEVEL_BADGES.get(level, "badge--neutral")


def _cite_text(evaluation: Any) -> str:
    """An evaluation's reference in the portal's citation style (app.evidence.citations)."""
    from app.evidence.citations import cite_text

    return cite_text(evaluation)


def _render_markdown(text: str | None) -> Markup:
    """Markdown typed by members, as sanitised HTML (see app.programmes.markdown)."""
    from app.programmes.markdown import render_markdown

    return render_markdown(text or "")


def _plain_text(text: str | None, limit: int | None) -> str:
    """Markdown as plain words, cut at ``limit`` characters (for snippets)."""
    from app.programmes.markdown import plain_text

    return plain_text(text or "", limit)


@cache
def _top_level_imports(name: str) -> tuple[tuple[str, tuple[tuple[str, str], ...], bool], ...]:
    """The ``{% from ... import ... %}`` and ``{% import ... as ... %}`` of a page."""
    loader = templates.env.loader
    assert loader is not None  # noqa: S101 - Jinja2Templates always sets one
    source, _filename, _uptodate = loader.get_source(templates.env, name)
    found = []
    for node in templates.env.parse(source).body:
        if isinstance(node, nodes.FromImport) and isinstance(node.template, nodes.Const):
            pairs = tuple(
                (item, item) if isinstance(item, str) else (item[0], item[1]) for item in node.names
            )
            found.append((str(node.template.value), pairs, bool(node.with_context)))
        elif isinstance(node, nodes.Import) and isinstance(node.template, nodes.Const):
            found.append((str(node.template.value), (("*", node.target),), node.with_context))
    return tuple(found)


def _imported_names(name: str, context: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for template_name, pairs, with_context in _top_level_imports(name):
        imported = templates.env.get_template(template_name)
        module = imported.make_module(dict(context)) if with_context else imported.module
        for original, alias in pairs:
            values[alias] = module if original == "*" else getattr(module, original)
    return values


def wants_fragment(request: Request) -> bool:
    """A fragment for htmx requests that swap part of a page.

    Boosted navigation and history restores replace the whole body, so they get the page.
    """
    headers = request.headers
    return (
        headers.get("hx-request") == "true"
        and headers.get("hx-history-restore-request") != "true"
        and headers.get("hx-boosted") != "true"
    )


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    block: str | None = "content",
    status_code: int = 200,
) -> Response:
    """Render the whole page, or only ``block`` when htmx asks for a fragment."""
    full_context: dict[str, Any] = {"viewer": getattr(request.state, "viewer", None)}
    full_context.update(context or {})
    if block and wants_fragment(request):
        # Rendering one block skips the template's top-level imports: provide them.
        full_context.update(_imported_names(template, full_context))
        response = templates.TemplateResponse(
            request, template, full_context, block_name=block, status_code=status_code
        )
    else:
        response = templates.TemplateResponse(
            request, template, full_context, status_code=status_code
        )
    response.headers["Vary"] = "HX-Request"
    return response


def redirect(url: str) -> RedirectResponse:
    """Post, then redirect with 303 so a reload never resubmits a form."""
    return RedirectResponse(url, status_code=303)
