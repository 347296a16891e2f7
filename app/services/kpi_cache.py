"""KPI reports kept in Redis until the rollup job changes the figures.

The figures change only when `kpi_rollups.rebuild` commits (every few minutes), so a report is
kept under a hash of everything it depends on — the filters, the locations and channels the
viewer may see, the language, and the rollup's version (a Redis key the rollup moves after each
commit) — for at most `KPI_CACHE_SECONDS` (default 300; 0 turns the cache off). Without Redis
the report is simply computed.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
from collections.abc import Iterable

from flask import current_app
from flask_babel import get_locale
from redis.exceptions import RedisError

from app.models import Channel, StockLocation
from app.models.base import utcnow
from app.queues import redis_connection
from app.services import kpis

log = logging.getLogger(__name__)
VERSION_KEY = "packline:kpi-rollup-version"
DEFAULT_SECONDS = 300


def bump() -> None:
    """Say that the figures changed (after a rollup committed): every kept report is stale."""
    try:
        redis_connection().set(VERSION_KEY, utcnow().isoformat())
    except (RedisError, OSError) as exc:  # Redis down: a known state, one line without a traceback
        log.warning("could not mark the KPI figures as changed (%s); kept reports expire on their own", exc)


def warm_default() -> int:
    """Compute and keep the page most people open first — the default range, every location and
    channel (a supervisor or admin of every location), with its six charts — in each language,
    right after the rollup committed, so nobody waits for it. Returns how many reports it kept."""
    from flask import current_app as app
    from flask_babel import force_locale
    from sqlalchemy import select

    from app.extensions import db
    from app.i18n import LANGUAGES
    from app.services import kpi_charts

    locations = list(db.session.scalars(select(StockLocation)))
    channels = list(db.session.scalars(select(Channel).order_by(Channel.code)))
    start, end = kpis.default_range()
    filters = kpis.KpiFilters(start, end, None, None)
    kept = 0
    for language in LANGUAGES:
        with app.test_request_context("/supervisor/kpis"), force_locale(language):
            kept_report = report(filters, locations, channels)
            for spec in kpi_charts.CHARTS:
                kpi_charts.cached_chart_svg(spec, kpi_charts.chart_table(spec, kept_report))
            kept += 1
    return kept


def report(filters: kpis.KpiFilters, locations: Iterable[StockLocation], channels: Iterable[Channel]) -> kpis.KpiReport:
    locations, channels = list(locations), list(channels)
    seconds = int(current_app.config.get("KPI_CACHE_SECONDS", DEFAULT_SECONDS))
    if seconds <= 0:
        return kpis.report(filters, locations, channels)
    try:
        conn = redis_connection()
        version = conn.get(VERSION_KEY) or b"-"
        key = "packline:kpi-report:" + hashlib.sha256(repr((
            filters, sorted(loc.id for loc in locations), sorted(c.id for c in channels), str(get_locale()),
            version)).encode()).hexdigest()
        kept = conn.get(key)
    except (RedisError, OSError):
        return kpis.report(filters, locations, channels)
    if kept is not None:
        try:
            return pickle.loads(kept)  # noqa: S301 - our own object, written below into our own Redis
        except Exception:  # noqa: BLE001 - an unreadable copy (an older version of the class) is recomputed
            log.info("a kept KPI report could not be read; computing it again")
    fresh = kpis.report(filters, locations, channels)
    for table in fresh.tables.values():
        table.body()  # formatted once, in this language, and kept with the report
    try:
        conn.set(key, pickle.dumps(fresh), ex=seconds)
    except (RedisError, OSError):
        pass
    return fresh
