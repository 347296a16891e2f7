"""Idempotency keys: a keyed write runs once; a repeat gets the first answer back.

`begin` runs before the request's command: it answers a repeat from the stored record, or
arranges (`db.on_next_write`) that the claim row is inserted first thing in the command's own
write transaction. The claim therefore commits or rolls back together with the command: a
command that failed leaves no claim, and a committed command is always recorded. `finish`
stores the answer on the claim right after the command's commit (the answer is only known once
the view has described the result).

A view whose answer is known before its command commits (a package command's response describes
what the command holds) gives `answer_before_commit` a function that builds it: the answer is
then stored on the claim just before the command's own commit, so the command, its claim and its
answer commit once, together, and the view answers with exactly the stored body.

A view whose effect lies outside the database (it queues a job) has no write transaction for
the claim to ride on: it calls `claim_now` right before the effect, which commits the claim in a
short transaction of its own; if the request then fails, `finish` frees the key again.

A concurrent duplicate waits for the first request's transaction at the claim's unique key
(PostgreSQL makes the second inserter wait; SQLite's BEGIN IMMEDIATE serialises writers), then
finds the key taken (`KeyInUse`): its own transaction rolls back, so nothing is applied twice,
and it answers with the first request's stored answer (`answer_for`). While it waits for that
answer it holds no transaction open, so the first request can store it.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, event, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import IdempotencyRecord
from app.models.base import utcnow
from app.services.db import begin_write, cancel_write_hook, intend_write, on_next_write, write_hook_pending
from app.services.errors import Conflict

log = logging.getLogger(__name__)

TTL = timedelta(hours=24)
# A committed claim gets its answer a few milliseconds later; a duplicate waits this long for it.
ANSWER_WAIT_SECONDS = 1.0
POLL_SECONDS = 0.02
# A claim still without an answer after this long lost it (the process died right after the commit).
ANSWER_LOST_AFTER = timedelta(minutes=5)
_HOOK = "idempotency_claim"
_CLAIM = "packline.idempotency_claim"


@dataclass(frozen=True)
class StoredAnswer:
    status: int
    body: str


@dataclass
class Claim:
    user_id: int
    key: str
    method: str
    path: str
    fingerprint: str
    record_id: int | None = None
    up_front: bool = False  # committed by `claim_now`, before an effect outside the database
    build: Callable[[], tuple[int, str]] | None = None  # `answer_before_commit`
    transaction: Any = None  # the transaction the claim was inserted in
    answer: StoredAnswer | None = None  # stored with the command's commit


class KeyInUse(Exception):
    """A concurrent request with the same key committed first; this one's transaction rolled back."""

    def __init__(self, claim: Claim):
        super().__init__(f"Idempotency-Key {claim.key!r} was taken by a concurrent request.")
        self.claim = claim


def fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def begin(user_id: int, key: str, method: str, path: str, body: bytes) -> StoredAnswer | None:
    """Start a keyed write.

    Returns the stored answer when the same request already ran (replay it). Raises Conflict
    when the key was used for another request (`idempotency_key_reused`), when the first request
    has committed but not yet stored its answer (`request_in_progress`), or when that answer was
    lost (`request_answer_lost`). Otherwise returns None: the caller runs the command, whose
    first write transaction (`begin_write`) inserts the claim and may raise `KeyInUse`.
    """
    claim = Claim(user_id=user_id, key=key, method=method, path=path, fingerprint=fingerprint(method, path, body))
    record = _live_record(user_id, key)
    if record is not None:
        return _answer(record, claim)
    db.session().info[_CLAIM] = claim
    on_next_write(_HOOK, lambda: _insert_claim(claim))
    return None


def claim_now() -> None:
    """Commit this keyed request's claim now, in a short transaction of its own.

    For a view whose effect lies outside the database (it queues a job), called after its checks
    and right before the effect: a concurrent duplicate then finds the key taken and waits for
    this request's answer instead of repeating the effect. Raises `KeyInUse` when a duplicate
    claimed it first. Does nothing for a request without a key, or whose claim already committed.
    """
    claim = db.session().info.get(_CLAIM)
    if claim is None or not write_hook_pending(_HOOK):
        return
    try:
        begin_write()
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    claim.up_front = True


def answer_before_commit(build: Callable[[], tuple[int, str]]) -> None:
    """Store this keyed request's answer, `build()` -> (status, body), in the command's own
    transaction, right before it commits (see the module's description). The view then answers
    with `stored_answer()`. Does nothing for a request without a key."""
    claim = db.session().info.get(_CLAIM)
    if claim is not None:
        claim.build = build


def stored_answer() -> StoredAnswer | None:
    """The answer `answer_before_commit` stored with the command's commit, if it did."""
    claim = db.session().info.get(_CLAIM)
    return claim.answer if claim is not None else None


@event.listens_for(Session, "before_commit")
def _answer_with_the_command(session: Session) -> None:
    claim = session.info.get(_CLAIM)
    if (claim is None or claim.build is None or claim.answer is not None or claim.record_id is None
            or claim.transaction is not session.get_transaction()):
        return
    session.flush()  # the command's rows as the commit writes them (timestamps included)
    status, body = claim.build()
    session.execute(update(IdempotencyRecord).where(IdempotencyRecord.id == claim.record_id)
                    .values(status_code=status, response_body=body))
    claim.answer = StoredAnswer(status, body)


def answer_for(claim: Claim) -> StoredAnswer:
    """The answer for a request that found its key taken (`KeyInUse`): the first one's, or Conflict."""
    _stop_writing()
    record = _live_record(claim.user_id, claim.key)
    if record is None:  # the first request's claim expired in between: vanishingly rare
        raise Conflict(_('A request with this Idempotency-Key is still running.'), code="request_in_progress")
    return _answer(record, claim)


def finish(status: int, body: str) -> None:
    """Store the request's answer on its claim (the command committed), or drop the claim.

    A request that committed no write (a failed command, or a read-only one) has no claim row;
    a successful one is recorded now, in its own transaction, so a repeat is still replayed. A
    claim committed up front (`claim_now`) whose request then failed is deleted: the effect did
    not happen, so a retry with the same key must run.
    Never raises: the command's outcome stands even if its answer cannot be stored.
    """
    claim = db.session().info.pop(_CLAIM, None)
    if claim is None:
        return
    committed = not write_hook_pending(_HOOK) and claim.record_id is not None
    if committed and claim.answer is not None and claim.answer.status == status:
        cancel_write_hook(_HOOK)
        return  # stored with the command's own commit
    cancel_write_hook(_HOOK)
    if not committed and status >= 400:
        return
    try:
        begin_write()
        if committed and claim.up_front and status >= 400:
            db.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == claim.record_id))
        elif committed:
            db.session.execute(update(IdempotencyRecord).where(IdempotencyRecord.id == claim.record_id)
                               .values(status_code=status, response_body=body))
        else:
            db.session.add(_record(claim, status_code=status, response_body=body))
        db.session.commit()
    except IntegrityError:  # an identical request recorded its answer first; it stands
        db.session.rollback()
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("could not store the answer for Idempotency-Key %r", claim.key)


def claimed() -> bool:
    """True when this request is a keyed write that `begin` let run."""
    return _CLAIM in db.session().info


def discard() -> None:
    """Forget the request's claim without storing anything (the end of every request)."""
    db.session().info.pop(_CLAIM, None)
    cancel_write_hook(_HOOK)


def _record(claim: Claim, **answer) -> IdempotencyRecord:
    # `path` is for people reading the table (the fingerprint covers the whole path); the column
    # holds 500 characters and PostgreSQL refuses longer values.
    return IdempotencyRecord(user_id=claim.user_id, key=claim.key, method=claim.method, path=claim.path[:500],
                             request_hash=claim.fingerprint, **answer)


def _insert_claim(claim: Claim) -> None:
    """Runs first in the command's write transaction (see `begin`)."""
    db.session.execute(delete(IdempotencyRecord).where(
        IdempotencyRecord.user_id == claim.user_id, IdempotencyRecord.key == claim.key,
        IdempotencyRecord.created_at < utcnow() - TTL))
    record = _record(claim)
    db.session.add(record)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise KeyInUse(claim) from None
    claim.record_id = record.id
    claim.transaction = db.session().get_transaction()
    claim.answer = None


def _live_record(user_id: int, key: str) -> IdempotencyRecord | None:
    record = db.session.scalar(select(IdempotencyRecord).where(
        IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key)
        .execution_options(populate_existing=True))
    if record is None or record.created_at < utcnow() - TTL:
        return None
    return record


def _stop_writing() -> None:
    """This request now only answers with another request's result: end its transaction, and let
    its reads begin as reads. A POST's first transaction otherwise begins IMMEDIATE on SQLite
    (`db.intend_write`), and a duplicate waiting in it would hold the write lock the first
    request needs to store the very answer the duplicate waits for."""
    db.session.rollback()
    intend_write(False)


def _answer(record: IdempotencyRecord, claim: Claim) -> StoredAnswer:
    if record.request_hash != claim.fingerprint:
        raise Conflict(_('This Idempotency-Key was used with a different request; use a new key.'),
                       code="idempotency_key_reused")
    status, body, created_at = record.status_code, record.response_body, record.created_at
    _stop_writing()
    deadline = time.monotonic() + ANSWER_WAIT_SECONDS
    while status is None and created_at > utcnow() - ANSWER_LOST_AFTER:
        if time.monotonic() > deadline:
            raise Conflict(_('A request with this Idempotency-Key is still running.'), code="request_in_progress")
        time.sleep(POLL_SECONDS)  # never inside a transaction: see `_stop_writing`
        record = _live_record(claim.user_id, claim.key)
        if record is None:
            raise Conflict(_('A request with this Idempotency-Key is still running.'), code="request_in_progress")
        status, body, created_at = record.status_code, record.response_body, record.created_at
        db.session.rollback()  # the next read takes a fresh snapshot (SQLite keeps a read's one)
    if status is None:
        raise Conflict(_('A request with this Idempotency-Key was applied, but its answer was lost; read the resource to see the outcome.'), code="request_answer_lost")
    return StoredAnswer(status, body or "")
