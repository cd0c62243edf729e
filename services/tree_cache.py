"""Where encoded budget trees are kept between reads (issue 17 item 2;
docs/design.md §5, "The budget tree is cached").

A cached tree is the exact bytes of a ``budget_allocation_tree/`` answer,
stored under a key that names everything the answer is made of
(``TreeKey``): a hit does no tree query, no rollup and no JSON work. A key
never needs deleting: a write changes the key (the tree's ``tree_version``,
the PPA's ``version``, ...), and old entries age out.

The store is the app's Redis when it has one (``REDIS_URL``; its own client,
with half-second timeouts), shared by every worker process, each
entry kept a day (``TTL_SECONDS``); else a bounded least-recently-used map
in the process (``MEMORY_BYTES`` of answers). Both live on the application
(``app.extensions``), made on first use. A cache that does not answer
(Redis down) is a miss, logged: the tree is built as without a cache.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from flask import current_app
from redis import Redis
from redis.exceptions import RedisError

log = logging.getLogger("ppaflow.cache")

#: Bump when the JSON of the tree changes shape, so no process serves an
#: answer encoded by older code (part of every key).
FORMAT = 1
#: Prefix of every key, in Redis (shared with RQ and the rate limits).
PREFIX = "ppaflow:budget-tree:"
#: How long Redis keeps an entry (seconds): a day, the most a key can live
#: anyway (the as-of date is part of it).
TTL_SECONDS = 24 * 60 * 60
#: How many bytes of answers the in-process store keeps (a 10,000-item tree is about 2.5 MB).
MEMORY_BYTES = 32 * 1024 * 1024

_EXTENSION = "ppaflow_tree_cache"


@dataclass(frozen=True)
class TreeKey:
    """Everything a PPA's budget tree answer is made of, as read in the
    PPA's one query (``services.tracking.read_budget_tree``).

    Attributes:
        ppa_id: the PPA.
        ppa_created: when the PPA row was created (a database rebuilt from
            scratch reuses ids and versions; it does not reuse this).
        ppa_version: the PPA row's ``version`` (its budget, its project).
        tree_version: the root work item's ``tree_version`` (every write to
            the tree's rows: ``services.trees.bump_tree_version``).
        in_chain: the PPA is in the money chain (an allotment released or
            cancelled moves it in or out without touching the tree).
        rules_hash: the rule set in force (progress method, on-budget band,
            earned value methods).
        as_of: today in the schedule's time zone (Asia/Manila).
        include: the per-node figures asked for (``?include=``, sorted,
            each once; ``services.performance.TREE_FIGURES``); none for the
            plain tree, whose key text is the same as before they existed.
    """

    ppa_id: int
    ppa_created: datetime
    ppa_version: int
    tree_version: int
    in_chain: bool
    rules_hash: str
    as_of: date
    include: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """The key in the store (readable, prefix included)."""
        text = (f"{PREFIX}{FORMAT}:{self.ppa_id}:{self.ppa_created.isoformat()}:{self.ppa_version}:"
                f"{self.tree_version}:{int(self.in_chain)}:{self.rules_hash}:{self.as_of.isoformat()}")
        return f"{text}:{'+'.join(self.include)}" if self.include else text

    @property
    def etag(self) -> str:
        """A strong entity tag of the answer: ``"tree-<ppa id>-<digest of the key>"``."""
        return f'"tree-{self.ppa_id}-{hashlib.blake2b(self.text.encode(), digest_size=12).hexdigest()}"'


class TreeStore(Protocol):
    """A place for encoded trees: ``get`` a key's bytes (``None``: a miss)
    and ``put`` them."""

    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, body: bytes) -> None: ...


class RedisStore:
    """Entries in Redis, each kept ``ttl`` seconds. After Redis fails to
    answer, it is left alone for ``pause`` seconds (every read a miss, no
    write), so a Redis that is down costs one timeout, not one per read."""

    def __init__(self, redis: Redis, ttl: int = TTL_SECONDS, pause: float = 30.0):
        self.redis = redis
        self.ttl = ttl
        self.pause = pause
        self._down_until = 0.0

    def _up(self) -> bool:
        return time.monotonic() >= self._down_until

    def _failed(self, what: str, exc: RedisError) -> None:
        self._down_until = time.monotonic() + self.pause
        log.warning("budget tree cache: Redis unreachable on %s (%s); building trees without it for %d s",
                    what, exc, self.pause)

    def get(self, key: str) -> bytes | None:
        """The entry, or ``None`` (also when Redis does not answer: logged)."""
        if not self._up():
            return None
        try:
            return self.redis.get(key)
        except RedisError as exc:
            self._failed("read", exc)
            return None

    def put(self, key: str, body: bytes) -> None:
        """Keep the entry (nothing happens when Redis does not answer: logged)."""
        if not self._up():
            return
        try:
            self.redis.set(key, body, ex=self.ttl)
        except RedisError as exc:
            self._failed("write", exc)


class MemoryStore:
    """Entries in this process, the most recently used up to ``limit``
    bytes in all (an entry larger than that is not kept). Thread-safe."""

    def __init__(self, limit: int = MEMORY_BYTES):
        self.limit = limit
        self._entries: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        """The entry, or ``None``."""
        with self._lock:
            body = self._entries.get(key)
            if body is not None:
                self._entries.move_to_end(key)
            return body

    def put(self, key: str, body: bytes) -> None:
        """Keep the entry, dropping the least recently used beyond ``limit`` bytes."""
        if len(body) > self.limit:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            self._size += len(body) - (len(old) if old is not None else 0)
            self._entries[key] = body
            while self._size > self.limit:
                _, dropped = self._entries.popitem(last=False)
                self._size -= len(dropped)

    def clear(self) -> None:
        """Forget every entry (a benchmark's cold reads)."""
        with self._lock:
            self._entries.clear()
            self._size = 0


def store() -> TreeStore:
    """The current application's store: Redis when ``REDIS_URL`` is set,
    else the process's own (made on first use, kept in ``app.extensions``)."""
    app = current_app
    kept = app.extensions.get(_EXTENSION)
    if kept is None:
        url = app.config.get("REDIS_URL")
        # Its own client with short timeouts: a hung Redis costs a read half a second, then counts as a miss.
        redis = Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5) if url else None
        kept = app.extensions.setdefault(_EXTENSION, RedisStore(redis) if redis is not None else MemoryStore())
    return kept
