"""``Idempotency-Key`` on POST requests (issue 6).

A client may send ``Idempotency-Key: <up to 255 printable characters>`` on
any ``/api`` POST. The first request with a key (per user) runs and its
response is stored; a retry with the same key gets that response back
(``Idempotent-Replayed: true``) without the work being done again. Retries
that arrive while the first is still running wait for it (up to
``IDEMPOTENCY_WAIT_SECONDS``), so twenty concurrent copies have one effect.
The same key with a different request is refused (422). Keys are kept 24
hours; each user's older keys are purged when they send a new one.

A claim goes through three states:

``pending``
    written (on its own short transaction) before the request runs, so
    concurrent copies see it and wait;
``committed``
    set inside the request's own transaction when it commits: the work and
    the mark are saved together or not at all;
``done``
    the response is stored, for replays.

If the request fails without having committed anything (a 5xx, a
``Retry-After``, a ``concurrent_update``), the claim is dropped and the
client may retry. If it committed and then lost its response (a 5xx after
the commit, a worker killed), retries get 409 ``response_lost`` rather
than the work done twice. A ``pending`` claim older than ``LEASE`` belongs
to a request that died before committing, and is taken over.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask, Response, g, has_request_context, request
from sqlalchemy import bindparam, delete, event, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from db import db
from db.models import IdempotencyKey
from db.types import utcnow
from web.errors import problem

log = logging.getLogger("ppaflow.web")

HEADER = "Idempotency-Key"
KEY = re.compile(r"[\x21-\x7e]{1,255}")
TTL = timedelta(hours=24)
LEASE = timedelta(seconds=120)  # longer than any request may run (gunicorn's timeout is 60 s)
POLL_SECONDS = 0.05
REPLAYED_HEADERS = ("Content-Type", "Location", "ETag")
TABLE = IdempotencyKey.__table__


@dataclass(frozen=True)
class Claim:
    """What ``claim`` found: ours to run, a response to replay, or a refusal."""

    row_id: int | None = None
    replay: Response | None = None
    refusal: Response | None = None


def fingerprint() -> str:
    """SHA-256 of the request's method, path, query and body."""
    digest = hashlib.sha256()
    for part in (request.method, request.path, request.query_string.decode("latin-1")):
        digest.update(part.encode() + b"\0")
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def claim(user_id: int, key: str, print_: str, wait_seconds: float) -> Claim:
    """Claim ``key`` for this request, or find the response to replay."""
    deadline = time.monotonic() + wait_seconds
    while True:
        now = utcnow()
        try:
            with db.engine.begin() as connection:
                connection.execute(_PURGE, {"purged_user_id": user_id, "purged_before": now - TTL})
                row_id = connection.execute(_CLAIM, {"user_id": user_id, "key": key, "fingerprint": print_,
                                                     "status": "pending", "created_at": now}).scalar_one()
            return Claim(row_id=row_id)
        except IntegrityError:
            pass  # someone has it: look at it
        with db.engine.begin() as connection:
            row = connection.execute(select(TABLE).where(TABLE.c.user_id == user_id, TABLE.c.key == key)).first()
            abandoned = row is not None and row.status == "pending" and _older_than(row.created_at, LEASE)
            if abandoned:  # its request died before committing anything: take it over
                connection.execute(delete(TABLE).where(TABLE.c.id == row.id, TABLE.c.status == "pending"))
        if row is None or abandoned:
            continue
        if row.fingerprint != print_:
            return Claim(refusal=problem(422, "idempotency_key_reused", "Idempotency key reused",
                                         f"{HEADER} {key!r} was first used for a different request",
                                         errors={HEADER: ["already used for a different request"]}))
        if row.status == "committed" and _older_than(row.created_at, LEASE):
            settle(row.id, None)  # its request committed, then died before answering
            continue
        if row.status == "done":
            headers = json.loads(row.response_headers or "{}") | {"Idempotent-Replayed": "true"}
            return Claim(replay=Response(row.response_body, status=row.response_status, headers=headers))
        if time.monotonic() > deadline:
            return Claim(refusal=problem(409, "idempotency_key_in_progress", "Request in progress",
                                         f"a request with {HEADER} {key!r} is still running; retry shortly",
                                         headers={"Retry-After": "1"}))
        time.sleep(POLL_SECONDS)


#: ``claim``'s statements, built once (every POST with a key sends them): the user's keys older
#: than ``TTL`` purged, then the claim inserted (its columns as parameters of the same names).
_PURGE = delete(TABLE).where(TABLE.c.user_id == bindparam("purged_user_id"),
                             TABLE.c.created_at < bindparam("purged_before", type_=TABLE.c.created_at.type))
_CLAIM = insert(TABLE).returning(TABLE.c.id)
#: ``mark_committed``'s UPDATE of the claim ``:claim_id`` while still pending.
_MARK_COMMITTED = (update(TABLE).where(TABLE.c.id == bindparam("claim_id"), TABLE.c.status == "pending")
                   .values(status="committed"))


def _older_than(moment, age: timedelta) -> bool:
    return moment.replace(tzinfo=None) < (utcnow() - age).replace(tzinfo=None)


def mark_committed(session: Session) -> None:
    """``before_commit`` of every session: inside a request that holds a
    claim, mark it ``committed`` in the same transaction as the work."""
    if has_request_context() and (row_id := g.get("idempotency_row")) is not None:
        session.execute(_MARK_COMMITTED, {"claim_id": row_id})


def is_transient(response: Response) -> bool:
    """A failure the client should simply retry: nothing was done."""
    if response.status_code >= 500 or "Retry-After" in response.headers:
        return True
    return response.status_code == 409 and (response.get_json(silent=True) or {}).get("code") == "concurrent_update"


def settle(row_id: int, response: Response | None) -> None:
    """End the claim ``row_id`` with the request's ``response`` (None: it
    has none). A transient failure of a request that committed nothing
    drops the claim; a request that committed but has no proper response
    stores 409 ``response_lost``; any other response is stored: in one
    UPDATE of a claim still pending or committed (a stored one stays as
    it is), the common case, where the row need not be read first."""
    if response is not None and not is_transient(response):
        with db.engine.begin() as connection:
            connection.execute(_STORE, _stored(row_id, response))
        return
    with db.engine.begin() as connection:
        status = connection.execute(select(TABLE.c.status).where(TABLE.c.id == row_id).with_for_update()).scalar()
        if status is None or status == "done":
            return
        if response is None or is_transient(response):
            if status == "pending":
                connection.execute(delete(TABLE).where(TABLE.c.id == row_id))
                return
            response = problem(409, "response_lost", "Response lost",
                               f"the request first sent with this {HEADER} was carried out but its response was "
                               "lost; read the resource to see the result instead of retrying")
        connection.execute(_STORE, _stored(row_id, response))


#: ``settle``'s UPDATE storing the response of the claim ``:claim_id`` unless it is stored already
#: (or gone): its new columns as parameters of the same names.
_STORE = (update(TABLE).where(TABLE.c.id == bindparam("claim_id"), TABLE.c.status.in_(("pending", "committed")))
          .values(status="done"))


def _stored(row_id: int, response: Response) -> dict:
    """``_STORE``'s parameters: the claim ``row_id`` and what is kept of ``response``."""
    headers = {name: response.headers[name] for name in REPLAYED_HEADERS if name in response.headers}
    return {"claim_id": row_id, "response_status": response.status_code, "response_body": response.get_data(),
            "response_headers": json.dumps(headers), "completed_at": utcnow()}


def init_app(app: Flask) -> None:
    """Honour ``Idempotency-Key`` on ``/api`` POSTs (after authentication)."""
    app.config.setdefault("IDEMPOTENCY_WAIT_SECONDS", 30)
    if not event.contains(Session, "before_commit", mark_committed):
        event.listen(Session, "before_commit", mark_committed)

    @app.before_request
    def claim_key():
        key = request.headers.get(HEADER)
        if key is None or request.method != "POST" or g.get("user") is None:
            return None
        if not KEY.fullmatch(key):
            return problem(400, "bad_idempotency_key", "Bad idempotency key",
                           f"{HEADER} must be 1 to 255 printable ASCII characters")
        user_id = g.user.id
        db.session.rollback()  # give back the connection authentication used: a retry may wait here a while
        found = claim(user_id, key, fingerprint(), app.config["IDEMPOTENCY_WAIT_SECONDS"])
        if found.row_id is not None:
            g.idempotency_row = found.row_id
            return None
        return found.replay or found.refusal

    @app.after_request
    def store_response(response: Response) -> Response:
        row_id = g.pop("idempotency_row", None)
        if row_id is not None:
            try:
                settle(row_id, response)
            except DBAPIError as exc:  # the answer stands; the claim stays as the work's transaction left it
                log.warning("%s: could not store the response of claim %s, retries will wait or be told "
                            "response_lost: %s", HEADER, row_id, exc.orig)
        return response

    @app.teardown_request
    def settle_unanswered(_exc) -> None:
        row_id = g.pop("idempotency_row", None)
        if row_id is not None:  # the request died before a response was made
            settle(row_id, None)
