"""Pages of a longer list: the page a query string asks for, and one page of a query."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")

# Larger page numbers are treated as no page at all: nobody pages that far by hand.
MAX_PAGE_NUMBER = 100_000


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a longer list; ``total`` counts every matching row."""

    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def first_number(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.items else 0

    @property
    def last_number(self) -> int:
        return (self.page - 1) * self.per_page + len(self.items)


def page_number(value: str | None) -> int:
    """The page a query parameter asks for; 1 for anything that is not a sensible number."""
    return int(value) if value and value.isdigit() and 0 < int(value) < MAX_PAGE_NUMBER else 1


def paginate(
    session: Session, statement: Select[Any], page: int, per_page: int, *, rows: bool = False
) -> Page[Any]:
    """Run ``statement`` for one page (1-based), counting all its rows in the same query.

    The items are the first column's objects, or whole rows (as tuples) with ``rows=True``.
    """
    # Far past the last page there is nothing either; a huge offset would not bind.
    page = min(max(1, page), MAX_PAGE_NUMBER)
    counted = statement.add_columns(func.count().over().label("total_rows"))
    found = session.execute(counted.limit(per_page).offset((page - 1) * per_page)).all()
    if found:
        total = int(found[0][-1])
    elif page > 1:
        # Past the last page: the window saw no rows, so count separately.
        total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    else:
        total = 0
    items: list[Any] = [tuple(row[:-1]) if rows else row[0] for row in found]
    return Page(items=items, total=total, page=page, per_page=per_page)
