"""Set-based writes (issue 17, item 3): a distribution or a set-based
change writes its audit rows in one INSERT and its allocations (and
stored rollups) in one UPDATE each, so the statements of a request do not
grow with the WBS."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC

from sqlalchemy import event, func, select, text

from db import audit, db
from db.audit import AuditContext, AuditEntry, audit_context
from db.bulk import WROTE, update_rows
from db.models import WorkItem
from services import users
from services.runtime import get_runtime
from workflow.money import from_centavos


def _wide_ppa(world, children: int) -> tuple[int, int]:
    """A tracked PPA whose project gets ``children`` more direct children
    (written behind the services' back, as a large WBS would be imported),
    each allocated one centavo. Returns ``(ppa id, project id)``."""
    ppa, _ = world.tracked_ppa("budget_review", budget_allocation="3000000.00")
    root = world.tree(ppa["id"])["breakdown"][0]["work_item_id"]
    with world.app.app_context(), db.engine.begin() as connection:
        first = connection.scalar(text("SELECT max(id) FROM work_items")) + 1
        connection.execute(text(
            "INSERT INTO work_items (id, root_id, parent_id, work_type, title, description, position, level, "
            "status, priority, progress, allocated_budget, actual_expenditure, budget_notes, budget_locked, "
            "created_at, updated_at, version) VALUES (:id, :root, :root, 'sub_project', :title, '', :position, 1, "
            "'not_started', 'medium', 0, 1, 0, '', false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)"),
            [{"id": first + n, "root": root, "title": f"Barangay {n}", "position": 100 + n} for n in range(children)])
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT setval('work_items_id_seq', (SELECT max(id) FROM work_items))"))
    return ppa["id"], root


@contextmanager
def _sent(engine) -> Iterator[list[str]]:
    """The statements the database receives inside the block, as a list of
    their SQL: an ``executemany`` is one statement on SQLite (it runs in
    process) but one per parameter set on PostgreSQL (psycopg sends each)."""
    sent: list[str] = []

    def before(_connection, _cursor, statement, parameters, _context, executemany):
        copies = len(parameters) if executemany and engine.dialect.name == "postgresql" else 1
        sent.extend([" ".join(statement.split()).upper()] * copies)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", before)


def _starting(sent: list[str], sql: str) -> int:
    return sum(statement.startswith(sql) for statement in sent)


def _containing(sent: list[str], sql: str) -> int:
    """Statements holding ``sql``, also inside a ``WITH`` (PostgreSQL sends a
    distribution's audit INSERT inside the UPDATE of the allocations)."""
    return sum(sql in statement for statement in sent)


def test_an_equal_distribution_over_500_children_sends_as_many_statements_as_over_50(world):
    counts, writes = {}, {}
    for children in (50, 500):
        ppa_id, _ = _wide_ppa(world, children)
        with world.app.app_context():
            with _sent(db.engine) as sent:
                response = world.client.post(f"/api/monitoring-entries/{ppa_id}/distribute_budget/",
                                             json={"method": "equal"}, headers=world.focal.headers)
            assert response.status_code == 200, response.get_json()
            changes = response.get_json()["changes"]
            audited = db.session.scalar(select(func.count()).select_from(AuditEntry).where(
                AuditEntry.entity == "work_item", AuditEntry.field == "allocated_budget",
                AuditEntry.entity_id.in_([c["work_item_id"] for c in changes])))
            db.session.remove()
        counts[children] = len(sent)
        writes[children] = (_containing(sent, "INSERT INTO AUDIT_LOG"), _containing(sent, "UPDATE WORK_ITEMS"))
        assert len(changes) >= children  # every new child got its share (and the old ones' subtrees rescaled)
        assert audited == len(changes)  # each change is in the audit log

    assert counts[500] == counts[50]
    assert writes[50] == writes[500]  # UPDATEs of work items (allocations, stored rollups) as many at both sizes
    assert writes[500][0] == 1  # the audit rows: one INSERT


def test_a_set_based_change_is_audited_in_one_insert_with_every_column(world):
    focal = world.focal
    _, root = _wide_ppa(world, 300)
    with world.app.app_context():
        organization = users.get_user(focal.username).organization_id
        ids = db.session.scalars(select(WorkItem.id).where(WorkItem.root_id == root).order_by(WorkItem.id)).all()
        context = AuditContext(actor_id=focal.id, actor=focal.username, request_id="req-set-based")
        rules_hash = get_runtime().rules.hash  # the rule set this "job" decided with
        with audit_context(context), _sent(db.engine) as sent:
            written = audit.record(db.session, "work_item", [
                (i, "budget_notes", "", f"note {n}", organization) for n, i in enumerate(ids)]
                + [(ids[0], "progress", 5, 5, organization)])  # unchanged: not recorded
        db.session.commit()
        rows = db.session.scalars(select(AuditEntry).where(AuditEntry.request_id == "req-set-based")
                                  .order_by(AuditEntry.id)).all()

    assert len(sent) == 1
    assert written == len(rows) == len(ids) >= 300
    first = rows[0]
    assert (first.entity, first.entity_id, first.action, first.field, first.old_value, first.new_value) == (
        "work_item", ids[0], "update", "budget_notes", '""', '"note 0"')
    assert {(r.actor_id, r.actor, r.organization_id, r.rules_hash) for r in rows} == {
        (focal.id, focal.username, organization, rules_hash)}
    assert len({r.created_at for r in rows}) == 1 and first.created_at.tzinfo == UTC


def test_a_flush_of_many_audited_changes_writes_them_in_one_insert(world):
    _, root = _wide_ppa(world, 40)
    with world.app.app_context():
        items = db.session.scalars(select(WorkItem).where(WorkItem.root_id == root, WorkItem.level == 1)).all()
        for item in items:
            item.title = f"{item.title} (renamed)"
        expected = sorted((item.id, f'"{item.title}"') for item in items)
        with audit_context(AuditContext(actor="flush test", request_id="req-flush")), _sent(db.engine) as sent:
            db.session.flush()
        db.session.commit()
        titles = db.session.execute(select(AuditEntry.entity_id, AuditEntry.new_value)
                                    .where(AuditEntry.request_id == "req-flush", AuditEntry.field == "title")).all()

    assert _starting(sent, "INSERT INTO AUDIT_LOG") == 1
    assert sorted(titles) == expected
    assert len(titles) >= 40


def _audit_rows(request_id: str) -> list:
    """The audit rows one request wrote, in order, every column but their ids and times."""
    return db.session.execute(select(
        AuditEntry.entity, AuditEntry.entity_id, AuditEntry.action, AuditEntry.field, AuditEntry.old_value,
        AuditEntry.new_value, AuditEntry.actor, AuditEntry.organization_id, AuditEntry.rules_hash)
        .where(AuditEntry.request_id == request_id).order_by(AuditEntry.id)).all()


def _php(centavos):
    return None if centavos is None else from_centavos(centavos)


def test_a_field_recorded_column_by_column_gives_the_rows_record_gives(world):
    _, root = _wide_ppa(world, 30)
    with world.app.app_context():
        organization = users.get_user(world.focal.username).organization_id
        ids = db.session.scalars(select(WorkItem.id).where(WorkItem.root_id == root).order_by(WorkItem.id)).all()
        olds = [None if n % 7 == 0 else n * 101 for n in range(len(ids))]
        news = [n * 99 if n % 5 else olds[n] for n in range(len(ids))]  # every fifth unchanged: left out
        by_record = AuditContext(actor="record", request_id="req-record")
        by_field = AuditContext(actor="record", request_id="req-field")
        with audit_context(by_record):
            counted = audit.record(db.session, "work_item", [
                (i, "allocated_budget", _php(old), _php(new), organization)
                for i, old, new in zip(ids, olds, news, strict=True)])
        with audit_context(by_field), _sent(db.engine) as sent:
            written = audit.record_field(db.session, "work_item", "allocated_budget", organization, ids,
                                         [audit.render_centavos(old) for old in olds],
                                         [audit.render_centavos(new) for new in news])
        db.session.commit()

        recorded, fielded = _audit_rows("req-record"), _audit_rows("req-field")

    assert _starting(sent, "INSERT INTO AUDIT_LOG") == len(sent) == 1
    assert written == counted == len(fielded) == len(ids) - len(range(0, len(ids), 5))
    assert fielded == recorded


def test_a_bulk_update_with_a_version_check_skips_the_rows_changed_since_they_were_read(world):
    _, root = _wide_ppa(world, 6)
    with world.app.app_context():
        read = db.session.execute(select(WorkItem.id, WorkItem.version).where(WorkItem.root_id == root)
                                  .order_by(WorkItem.id)).all()
        moved = read[1].id
        db.session.execute(text("UPDATE work_items SET version = version + 1 WHERE id = :id"), {"id": moved})
        written = update_rows(db.session, WorkItem.__table__, [
            {"id": i, "version": version, "allocated_budget": 700 + n, "status": "in_progress"}
            for n, (i, version) in enumerate(read)], ["allocated_budget", "status"], check_version=True)
        db.session.commit()
        after = db.session.execute(select(WorkItem.id, WorkItem.version, WorkItem.status)
                                   .where(WorkItem.root_id == root).order_by(WorkItem.id)).all()

    assert sorted(written) == [i for i, _ in read if i != moved]
    assert [(i, version, status) for i, version, status in after] == [
        (i, version + 1, "not_started" if i == moved else "in_progress") for i, version in read]


def test_a_transaction_whose_only_writes_are_set_based_is_known_to_have_written(world):
    # A COMMIT lost with the connection is "outcome unknown" only for a transaction that wrote
    # (services.unit_of_work); set-based writes go through the driver, past the ORM events that note it.
    _, root = _wide_ppa(world, 3)
    with world.app.app_context():
        ids = db.session.scalars(select(WorkItem.id).where(WorkItem.root_id == root)).all()
        db.session.commit()
        db.session.info.pop(WROTE, None)
        update_rows(db.session, WorkItem.__table__, [{"id": i, "allocated_budget": 5} for i in ids],
                    ["allocated_budget"])
        by_update = db.session.info.pop(WROTE, False)
        audit.record_field(db.session, "work_item", "progress", None, ids, ["1"] * len(ids), ["2"] * len(ids))
        by_insert = db.session.info.pop(WROTE, False)
        db.session.rollback()

    assert (by_update, by_insert) == (True, True)


def test_amounts_set_with_their_audit_rows_give_the_rows_a_field_recorded_column_by_column_gives(world):
    # The database renders the old and new amounts (update_amounts); Python rendered them (record_field).
    _, root = _wide_ppa(world, 30)
    with world.app.app_context():
        organization = users.get_user(world.focal.username).organization_id
        ids = db.session.scalars(select(WorkItem.id).where(WorkItem.root_id == root).order_by(WorkItem.id)).all()
        olds = [None if n % 7 == 0 else n * 101 + (n % 3) for n in range(len(ids))]
        news = [n * 99 if n % 5 else olds[n] for n in range(len(ids))]  # every fifth unchanged: left out
        news[1] = 2**60 + 7  # beyond what JSON carries exactly: SQLite gets the rows one by one
        news[2] = None
        amounts = dict(zip(reversed(ids), reversed(news), strict=True))  # the audit rows follow this order
        db.session.execute(text("UPDATE work_items SET allocated_budget = :amount WHERE id = :id"),
                           [{"id": i, "amount": old} for i, old in zip(ids, olds, strict=True)])
        versions = dict(db.session.execute(select(WorkItem.id, WorkItem.version).where(WorkItem.root_id == root)).all())
        with audit_context(AuditContext(actor="record", request_id="req-field")):
            audit.record_field(db.session, "work_item", "allocated_budget", organization, list(amounts),
                               [audit.render_centavos(olds[ids.index(i)]) for i in amounts],
                               [audit.render_centavos(new) for new in amounts.values()])
        with audit_context(AuditContext(actor="record", request_id="req-amounts")), _sent(db.engine) as sent:
            audit.update_amounts(db.session, "work_item", WorkItem.__table__, "allocated_budget", organization,
                                 amounts)
        db.session.commit()

        written = dict(db.session.execute(select(WorkItem.id, WorkItem.allocated_budget)
                                          .where(WorkItem.root_id == root)).all())
        after = dict(db.session.execute(select(WorkItem.id, WorkItem.version).where(WorkItem.root_id == root)).all())
        recorded, amounted = _audit_rows("req-field"), _audit_rows("req-amounts")

    assert amounted == recorded and len(amounted) == len(ids) - len(range(0, len(ids), 5))
    assert {i: written[i] for i in amounts} == {i: None if new is None else from_centavos(new)
                                                for i, new in amounts.items()}
    assert {i: after[i] - versions[i] for i in amounts} == {i: 1 for i in amounts}  # every row named is written
    assert _containing(sent, "INSERT INTO AUDIT_LOG") == 1  # the JSON rows, or one executemany of them


def test_the_database_renders_amounts_as_the_audit_log_does(world):
    amounts = [None, 0, 5, 99, 100, 123456, -5, -100, -123456, 2**62]
    with world.app.app_context():
        dialect = db.engine.dialect
        placeholder = "%(amount)s" if dialect.name == "postgresql" else "?"
        sql = (f"SELECT {audit._rendered_sql('v.amount', dialect)} "
               f"FROM (SELECT CAST({placeholder} AS BIGINT) AS amount) AS v")
        with db.engine.connect() as connection:
            rendered = [connection.exec_driver_sql(sql, {"amount": a} if dialect.name == "postgresql" else (a,))
                        .scalar() for a in amounts]

    assert rendered == [audit.render_centavos(a) for a in amounts]
