"""Database URL handling."""


def normalize_database_url(url: str) -> str:
    """Pick the psycopg 3 driver for plain PostgreSQL URLs.

    ``postgresql://u@h/db`` and ``postgres://u@h/db`` (as in ``DATABASE_URL``
    conventions) become ``postgresql+psycopg://u@h/db``; anything else is
    returned unchanged.
    """
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
