"""Query parameters read the same way on every page.

A list's page number is forgiving: a hand-edited or stale ``?page=x`` shows the first page,
as ``paging.paginate`` already shows the last page for ``?page=999`` (a link that still
works beats an error page about a number nobody typed on purpose). The JSON API keeps its
page numbers strict: a program is told, in the reader's language, that ``page`` must be a
whole number.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query
from pydantic import BeforeValidator

from evalplatform.services.paging import MAX_PER_PAGE


def _page_number(value: Any) -> Any:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 1


#: ``page: PageNumber = 1`` in a page handler: a number that does not parse reads as 1.
PageNumber = Annotated[int, BeforeValidator(_page_number)]


#: ``page: ApiPage = 1`` in a JSON API list: a whole number from 1, refused (422 naming
#: ``page`` and the rule) otherwise; one past the last page is refused once the list is counted
#: (``paging.list_problems``).
ApiPage = Annotated[int, Query(ge=1, description="Page number, from 1 to the last page")]

#: ``per_page: ApiPerPage = 20`` in a JSON API list: rows per page, 1 to 200.
ApiPerPage = Annotated[int, Query(ge=1, le=MAX_PER_PAGE,
                                  description=f"Rows per page, 1 to {MAX_PER_PAGE}")]
