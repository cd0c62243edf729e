"""Pagination of SQLAlchemy queries with flask-smorest's ``@paginate``
(``page`` and ``page_size`` query parameters, ``X-Pagination`` header).

``X-Pagination`` is a response header holding a JSON object (a string, as
every header is), kept so for the clients that read it:

``total``
    how many items the whole list has;
``total_pages``
    how many pages of ``page_size`` items that makes (0 for an empty list);
``page``
    the page returned (as asked, even past the last page, which is empty);
``page_size``
    items per page (as asked, default 20, at most 200);
``first_page``, ``last_page``
    1 and ``total_pages``, when the list is not empty;
``previous_page``, ``next_page``
    when there is one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask_smorest import Page
from sqlalchemy import func, select

from db import db
from db.types import MAX_ROW_ID
from services.ppas import PreparedList

HEADER = "X-Pagination"
FIELDS = ("total", "total_pages", "page", "page_size", "first_page", "last_page", "previous_page", "next_page")
HEADER_DOC = {
    "description": "the list's pagination, a JSON object: total (items in the whole list), total_pages, page "
                   "(the page returned), page_size, and when they exist first_page, last_page, previous_page, "
                   "next_page",
    "required": True,
    "schema": {"type": "string", "pattern": r"^\{.*\}$",
               "example": json.dumps({"total": 42, "total_pages": 3, "page": 2, "page_size": 20, "first_page": 1,
                                      "last_page": 3, "previous_page": 1, "next_page": 3})},
}
"""The OpenAPI description of the header (``web.parsing.Blueprint`` attaches it to every paginated list)."""


def metadata(page: int, page_size: int, item_count: int) -> dict[str, int]:
    """The ``X-Pagination`` object of page ``page`` (1-based) of ``page_size``
    items in a list of ``item_count``."""
    total_pages = -(-item_count // page_size)
    out = {"total": item_count, "total_pages": total_pages, "page": page, "page_size": page_size}
    if total_pages:
        out |= {"first_page": 1, "last_page": total_pages}
        if 1 < page <= total_pages:
            out["previous_page"] = page - 1
        if page < total_pages:
            out["next_page"] = page + 1
    return out


class SQLPage(Page):
    """A page of a SQLAlchemy ``Select``, or of a ``PreparedList`` (its
    statements built once, with this request's values): one COUNT and one
    bounded SELECT."""

    @property
    def item_count(self) -> int:
        if isinstance(self.collection, PreparedList):
            return db.session.scalar(self.collection.count, self.collection.params)
        return db.session.scalar(select(func.count()).select_from(self.collection.order_by(None).subquery()))

    @property
    def items(self) -> list:
        """The rows of the requested page; past the last possible row (a
        ``page`` of 10^17, say) the page is empty rather than an offset the
        database cannot hold."""
        if self.page_params.first_item > MAX_ROW_ID:
            return []
        if isinstance(self.collection, PreparedList):
            return list(db.session.scalars(self.collection.page, {
                **self.collection.params, "first_item": self.page_params.first_item,
                "page_size": self.page_params.page_size}))
        query = self.collection.offset(self.page_params.first_item).limit(self.page_params.page_size)
        return list(db.session.scalars(query))


def viewed(view: Callable[[Any], Any]) -> type[SQLPage]:
    """A ``SQLPage`` whose items are ``view(row)``: list items carry what
    the single read of the same record carries (totals, balances)."""

    class ViewedPage(SQLPage):
        @property
        def items(self) -> list:
            return [view(row) for row in super().items]

    return ViewedPage
