"""How a service hands work to the background jobs without importing them
(docs/design.md §1 "Direction of imports", §7).

Web and jobs import the services; the services never import web or jobs.
A service that needs a job run after its transaction (a notification's
e-mail, a large report) calls ``enqueue`` here. The function behind it is
handed in when a process is put together: ``web.create_app``, which every
process builds (the web workers, ``ppaflow worker``, the scheduler and each
command), calls ``use_enqueue(jobs.queue.enqueue)``, as cosmicpython's
bootstrap hands a message bus its handlers. (The job kinds a rule set's
schedule may name reach the rule loader the same way:
``services.runtime.use_code_checks``.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_enqueue: Callable[..., Any] | None = None


def use_enqueue(enqueue_function: Callable[..., Any]) -> None:
    """Set the function ``enqueue`` calls: ``jobs.queue.enqueue`` (its
    arguments: ``kind``, ``requested_by=``, plain keyword values)."""
    global _enqueue
    _enqueue = enqueue_function


def enqueue(kind: str, *, requested_by: Any = None, **arguments: Any) -> Any:
    """Record job ``kind`` in the current transaction and dispatch it after
    the commit (``jobs.queue.enqueue``, handed in by ``use_enqueue``).

    Returns:
        The job's ``JobRecord``.

    Raises:
        RuntimeError: no enqueue function was handed in (no app was built
            in this process), or, from ``jobs.queue.enqueue``, no
            ``transaction()`` is open.
        ValueError: unknown kind.
    """
    if _enqueue is None:
        raise RuntimeError("no job queue: build the app with web.create_app() before enqueuing jobs")
    return _enqueue(kind, requested_by=requested_by, **arguments)
