"""Lists are `{"items", "count", "page", "pages"}` (API.md, "Lists")."""

from __future__ import annotations

import math
from typing import Any

from django.db.models import Model, QuerySet

from api.schemas import PageQuery


def paginate[M: Model](queryset: QuerySet[M], query: PageQuery) -> tuple[list[M], dict[str, Any]]:
    """One page of a queryset and the page fields; a page past the end is empty, not an error."""
    count = queryset.count()
    pages = max(math.ceil(count / query.page_size), 1)
    start = (query.page - 1) * query.page_size
    items = list(queryset[start : start + query.page_size]) if start < count else []
    return items, {"count": count, "page": query.page, "pages": pages}
