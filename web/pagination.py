"""Pagination of SQLAlchemy queries with flask-smorest's ``@paginate``
(``page`` and ``page_size`` query parameters, ``X-Pagination`` header)."""

from __future__ import annotations

from flask_smorest import Page
from sqlalchemy import func, select

from db import db
from web.parsing import MAX_ROW_ID


class SQLPage(Page):
    """A page of a SQLAlchemy ``Select``: one COUNT and one bounded SELECT."""

    @property
    def item_count(self) -> int:
        return db.session.scalar(select(func.count()).select_from(self.collection.order_by(None).subquery()))

    @property
    def items(self) -> list:
        """The rows of the requested page; past the last possible row (a
        ``page`` of 10^17, say) the page is empty rather than an offset the
        database cannot hold."""
        if self.page_params.first_item > MAX_ROW_ID:
            return []
        query = self.collection.offset(self.page_params.first_item).limit(self.page_params.page_size)
        return list(db.session.scalars(query))
