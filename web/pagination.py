"""Pagination of SQLAlchemy queries with flask-smorest's ``@paginate``
(``page`` and ``page_size`` query parameters, ``X-Pagination`` header)."""

from __future__ import annotations

from flask_smorest import Page
from sqlalchemy import func, select

from db import db


class SQLPage(Page):
    """A page of a SQLAlchemy ``Select``: one COUNT and one bounded SELECT."""

    @property
    def item_count(self) -> int:
        return db.session.scalar(select(func.count()).select_from(self.collection.order_by(None).subquery()))

    @property
    def items(self) -> list:
        query = self.collection.offset(self.page_params.first_item).limit(self.page_params.page_size)
        return list(db.session.scalars(query))
