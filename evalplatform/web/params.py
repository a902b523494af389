"""Query parameters read the same way on every page.

A list's page number is forgiving: a hand-edited or stale ``?page=x`` shows the first page,
as ``paging.paginate`` already shows the last page for ``?page=999`` (a link that still
works beats an error page about a number nobody typed on purpose). The JSON API keeps its
page numbers strict: a program is told, in the reader's language, that ``page`` must be a
whole number.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator


def _page_number(value: Any) -> Any:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 1


#: ``page: PageNumber = 1`` in a page handler: a number that does not parse reads as 1.
PageNumber = Annotated[int, BeforeValidator(_page_number)]
