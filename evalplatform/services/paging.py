"""Paged, sorted lists: the one way every table in the application pages."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from math import ceil
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from evalplatform.i18n import _

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 200


#: The escape character of the patterns :func:`contains` makes: ``.ilike(pattern, escape=LIKE_ESCAPE)``
#: (SQLite has no default escape character, so it is always named).
LIKE_ESCAPE = "\\"


def contains(q: str) -> str:
    """The LIKE pattern of the texts that contain ``q`` (stripped) as typed: its ``%``, ``_`` and
    ``\\`` are escaped with :data:`LIKE_ESCAPE`, so a search for "100%" or "a_b" finds those
    characters, not every row."""
    text = (q or "").strip()
    for character in (LIKE_ESCAPE, "%", "_"):
        text = text.replace(character, LIKE_ESCAPE + character)
    return f"%{text}%"


def any_contains(q: str, *columns):
    """The condition that one of ``columns`` contains ``q`` as typed, ignoring case (a list's
    search box): :func:`contains` with its escape character."""
    pattern = contains(q)
    return or_(*(col(column).ilike(pattern, escape=LIKE_ESCAPE) for column in columns))


@dataclass
class Page:
    items: list[Any]
    total: int
    page: int
    per_page: int
    sort: str
    descending: bool
    sortable: tuple[str, ...] = field(default_factory=tuple)

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def first_index(self) -> int:
        return 0 if self.total == 0 else (self.page - 1) * self.per_page + 1

    @property
    def last_index(self) -> int:
        return min(self.total, self.page * self.per_page)


def _int(value: Any, default: int, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return min(max(number, low), high)


def paginate(
    session: Session,
    statement,
    *,
    sort_columns: dict[str, Any],
    sort: str | None,
    default_sort: str,
    page: Any = 1,
    per_page: Any = DEFAULT_PER_PAGE,
) -> Page:
    """Run ``statement`` for one page. ``sort`` is a key of ``sort_columns``, "-key" descending.

    Unknown sort keys fall back to the default rather than failing: a stale link still works.
    """
    descending = bool(sort and sort.startswith("-"))
    key = (sort or "").lstrip("-")
    if key not in sort_columns:
        descending = default_sort.startswith("-")
        key = default_sort.lstrip("-")
    column = sort_columns[key]
    per_page = _int(per_page, DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
    total = session.exec(select(func.count()).select_from(statement.subquery())).one()
    pages = max(1, ceil(total / per_page))
    page = _int(page, 1, 1, pages)
    # an empty value (never signed in, not yet decided) comes last either way, on SQLite as on
    # PostgreSQL (which would put it first when descending, SQLite first when ascending)
    order = (column.desc() if descending else column.asc()).nulls_last()
    tiebreak = [c for c in statement.selected_columns if getattr(c, "primary_key", False)]
    rows = session.exec(
        statement.order_by(order, *tiebreak).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return Page(
        items=list(rows),
        total=total,
        page=page,
        per_page=per_page,
        sort=key,
        descending=descending,
        sortable=tuple(sort_columns),
    )


def applied_sort(found: Page) -> str:
    """The sort a page was listed in, as a list request names it: "key" or "-key" (empty: the
    list's own order)."""
    return ("-" if found.descending else "") + found.sort if found.sort else ""


def sort_items(items: list[Any], sort_keys: dict[str, Callable[[Any], Any]],
               sort: str | None) -> tuple[list[Any], str, bool]:
    """Order a list computed in Python by ``sort``, a key of ``sort_keys`` ("-key" descending).

    Returns the items, the key used and whether descending. An empty or unknown key keeps the
    list's own order (its default, key ""), silently: a stale link still works. Ties keep the
    default order, and items without a value (``None``, e.g. no due date yet) come last either
    way."""
    descending = bool(sort and sort.startswith("-"))
    key = (sort or "").lstrip("-")
    if key not in sort_keys:
        return list(items), "", False
    value = sort_keys[key]
    known = [i for i in items if value(i) is not None]
    missing = [i for i in items if value(i) is None]
    return sorted(known, key=value, reverse=descending) + missing, key, descending


def sort_problems(sort: str | None, sort_keys: Collection[str]) -> dict[str, str]:
    """``sort`` → why it cannot be applied, in the reader's language: the keys :func:`sort_items`
    knows, each optionally with a leading "-". The pages ignore an unknown sort (a stale link
    still lists); the JSON API refuses it, since a program must not take its own order for the
    one it asked for."""
    if not sort or sort.removeprefix("-") in sort_keys:
        return {}
    return {"sort": _("Sort by one of %(choices)s; a leading - sorts descending.",
                      choices=", ".join(sort_keys))}


def list_problems(found: Page, *, sort: str | None, page_number: int) -> dict[str, str]:
    """What the JSON API refuses in a list request once its page is known, in the reader's
    language: a ``sort`` that is not one of the list's keys (:func:`sort_problems`) and a page
    number past the last page. :func:`paginate` forgives both for the pages (the default sort,
    the last page: a stale link still lists); a program must not be handed another order or
    another page than the one it asked for, nor loop for ever on a last page it takes for a
    new one."""
    problems = sort_problems(sort, found.sortable)
    if page_number > found.pages:
        problems["page"] = _("Page number must be from 1 to %(last)s, the last page.",
                             last=found.pages)
    return problems


def paginate_items(items: list[Any], *, page: Any = 1, per_page: Any = DEFAULT_PER_PAGE,
                   sort: str | None = None,
                   sort_keys: dict[str, Callable[[Any], Any]] | None = None) -> Page:
    """One page of a list already computed and ordered in Python (e.g. due dates worked out
    row by row): the same :class:`Page` and the same clamping as :func:`paginate`; sorted by
    :func:`sort_items` when the reader chose one of ``sort_keys``, else in the list's order."""
    items, key, descending = sort_items(items, sort_keys or {}, sort)
    per_page = _int(per_page, DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
    total = len(items)
    page = _int(page, 1, 1, max(1, ceil(total / per_page)))
    start = (page - 1) * per_page
    return Page(items=list(items[start:start + per_page]), total=total, page=page,
                per_page=per_page, sort=key, descending=descending,
                sortable=tuple(sort_keys or ()))
