"""Configuration kept in memory per process, checked against the database once per transaction.

Planning and commands read the same few rows over and over: settings, scenarios with their
rules, locations, channel and cargo company codes. A process keeps them in one `Config`
snapshot. Database triggers (migration 0011) change the single `config_versions` row whenever
any of those tables is written, by anyone — this process, another gunicorn worker, an RQ
worker, bulk SQL. `current()` reads that row's token once per transaction (one primary-key
read, or none when the caller already read it, e.g. inside the planner's order query) and
reloads the snapshot when the token moved. So a change committed in one process is seen by the
very next transaction in every other one; nothing expires on a timer.

Within a transaction the check is not repeated, except after this session itself writes
configuration (an ORM flush of one of those models or a DML statement through the session):
then the next `current()` reads the token again. Between a commit and the session's next
transaction (a command's response being built from what it holds), the snapshot that
transaction checked is used as it was: the answer describes the committed work, and reading
the token would open a transaction just for that.

A snapshot is shared by every thread of the process: treat everything in it as read-only
(`setting()` hands out copies of JSON values).
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import CargoCompany, Channel, DenialReason, Scenario, ScenarioRule, Setting, StockLocation
from app.models.settings import ConfigVersion

_CHECKED = "packline.config_checked"
_NOTED = "packline.config_noted"
_COMMITTING = "packline.config_committing"
_CARRIED = "packline.config_carried"
# Every model whose table bumps config_versions (migrations 0011, 0025).
CACHED_MODELS = (Setting, Scenario, ScenarioRule, StockLocation, Channel, CargoCompany, DenialReason)


@dataclass
class Config:
    token: int | None
    settings: dict[str, Any]
    scenarios: list  # planning.model.ScenarioView, active ones in priority order
    sites: dict  # planning.model.Site by location id
    channel_code: dict[int, str]
    cargo_code: dict[int, str]
    location_code: dict[int, str]
    own_label: dict[int, bool]  # channels that print their own shipping label
    extra: dict[str, Any] = field(default_factory=dict)  # derived values, computed once per snapshot

    def setting(self, key: str, missing: Any = None) -> Any:
        if key not in self.settings:
            return missing
        value = self.settings[key]
        return copy.deepcopy(value) if isinstance(value, (dict, list)) else value

    def has_setting(self, key: str) -> bool:
        return key in self.settings


_lock = threading.Lock()
_snapshots: dict[str, Config] = {}  # per database URL (tests and benchmarks may run several apps)
loads = 0  # snapshots loaded by this process (tests read it)


def token_query():
    """The token as a scalar subquery, for callers that fold the check into a statement they send
    anyway (`current(token=...)`)."""
    return select(ConfigVersion.token).where(ConfigVersion.id == 1).scalar_subquery()


def note_token(token: Any) -> None:
    """Keep the value of `token_query()` that a statement this transaction sent anyway read (the
    API token lookup, every API request's first statement) for the transaction's first
    `current()`, which then needs no read of its own. Nothing is loaded now: a request that never
    asks for the configuration pays nothing."""
    session = db.session()
    session.info[_NOTED] = (session.get_transaction(), token)


def current(token: Any = ...) -> Config:
    """The configuration as of this transaction. `token`: the value of `token_query()` the caller
    already read in this transaction (saves the read)."""
    session = db.session()
    checked = session.info.get(_CHECKED)
    if checked is not None and token is ... and checked[0] is session.get_transaction():
        return checked[1]
    carried = session.info.get(_CARRIED)
    if carried is not None and token is ... and not session.in_transaction():
        return carried
    if token is ...:
        noted = session.info.pop(_NOTED, None)
        if noted is not None and noted[0] is session.get_transaction():
            token = noted[1]
        else:
            token = session.execute(select(ConfigVersion.token).where(ConfigVersion.id == 1)).scalar()
    key = str(session.get_bind().url)
    snapshot = _snapshots.get(key)
    if snapshot is None or token is None or snapshot.token != token:
        snapshot = _load(token)
        if token is not None:  # no row (a test emptied the table): never cache, read every time
            with _lock:
                _snapshots[key] = snapshot
    session.info[_CHECKED] = (session.get_transaction(), snapshot)
    return snapshot


def checked() -> Config | None:
    """The snapshot this transaction has already checked (no statement), or None — also while the
    session holds a configuration record changed and not yet flushed (the snapshot predates it)."""
    session = db.session()
    snapshot = session.info.get(_CHECKED)
    if snapshot is None or snapshot[0] is not session.get_transaction():
        return None
    if any(isinstance(obj, CACHED_MODELS) for objs in (session.new, session.dirty) for obj in objs):
        return None
    return snapshot[1]


def forget() -> None:
    """Drop every snapshot of this process (tests)."""
    with _lock:
        _snapshots.clear()


def _load(token: int | None) -> Config:
    global loads
    from app.services.planning import snapshot

    loads += 1
    s = db.session
    settings = dict(s.execute(select(Setting.key, Setting.value)).tuples().all())
    views = snapshot.load_scenarios()
    sites = snapshot.load_sites()
    channels = s.execute(select(Channel.id, Channel.code, Channel.provides_shipping_label)).all()
    return Config(
        token=token, settings=settings, scenarios=views, sites=sites,
        channel_code={cid: code for cid, code, _ in channels},
        cargo_code=dict(s.execute(select(CargoCompany.id, CargoCompany.code)).tuples().all()),
        location_code={sid: site.code for sid, site in sites.items()},
        own_label={cid: True for cid, _, own in channels if own})


@event.listens_for(Session, "after_flush")
def _config_flushed(session: Session, _context) -> None:
    if (_CHECKED in session.info or _NOTED in session.info) and any(
            isinstance(obj, CACHED_MODELS) for objs in (session.new, session.dirty, session.deleted) for obj in objs):
        session.info.pop(_CHECKED, None)
        session.info.pop(_NOTED, None)


_CACHED_TABLES = frozenset(model.__tablename__ for model in CACHED_MODELS)


@event.listens_for(Session, "do_orm_execute")
def _config_written(state) -> None:
    # A bulk statement on a cached table makes the next read check the token again; one on any
    # other table (a stock UPDATE in every pick) does not, so a command reads the token once.
    info = state.session.info
    if (state.is_insert or state.is_update or state.is_delete) and (_CHECKED in info or _NOTED in info):
        table = getattr(getattr(state.statement, "table", None), "name", None)
        if table is None or table in _CACHED_TABLES:
            info.pop(_CHECKED, None)
            info.pop(_NOTED, None)


@event.listens_for(Session, "before_commit")
def _committing(session: Session) -> None:
    checked = session.info.get(_CHECKED)
    if checked is not None and checked[0] is session.get_transaction() and not any(
            isinstance(obj, CACHED_MODELS) for objs in (session.new, session.dirty, session.deleted) for obj in objs):
        # (configuration still to be flushed by this commit: the checked snapshot is older than it)
        session.info[_COMMITTING] = checked[1]


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    snapshot = session.info.pop(_COMMITTING, None)
    if snapshot is not None:
        session.info[_CARRIED] = snapshot


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_COMMITTING, None)


@event.listens_for(Session, "after_begin")
def _began(session: Session, _transaction, _connection) -> None:
    session.info.pop(_CARRIED, None)
