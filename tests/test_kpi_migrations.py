"""The KPI histogram backfills of migrations 0021 and 0023 on an upgraded database with existing
rollup rows, on SQLite and PostgreSQL: a scratch database rolled up by the job at head, taken
back to 0020 (where the per-(day, location) and per-(day, channel) bucket tables of 0018 hold the
buckets), then upgraded again — the histogram rows the migrations write are exactly those the
rollup job itself wrote.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from app.extensions import db
from app.models import ChannelStockSync
from app.services import kpi_rollups
from tests import factories, scratch_db
from tests.kpi_history import History

FIRST, LAST = date(2026, 11, 1), date(2026, 11, 30)


@pytest.fixture
def scratch_app(app, tmp_path):
    """An app on a database of its own (this test takes it up and down the migration chain)."""
    with scratch_db.scratch_app(app, tmp_path, "kpi-migrations") as other:
        yield other


def _histograms(table: str, key: str) -> dict[tuple, dict[int, int]]:
    out = {}
    for day, span, owner, metric, counts in db.session.execute(
            text(f"SELECT day, span_days, {key}, metric, counts FROM {table}")):
        flat = kpi_rollups.decode(counts)
        day = date.fromisoformat(day[:10]) if isinstance(day, str) else day
        assert (day, span, owner, metric) not in out, "a histogram row twice"
        out[(day, span, owner, metric)] = dict(zip(flat[::2], flat[1::2], strict=True))
    return out


def _bucket_sums(table: str, key: str) -> dict[tuple, int]:
    rows = db.session.execute(text(f"SELECT day, {key}, metric, bucket, sum(count) FROM {table} "
                                   f"GROUP BY day, {key}, metric, bucket"))
    return {(date.fromisoformat(d[:10]) if isinstance(d, str) else d, owner, metric, int(b)): int(n)
            for d, owner, metric, b, n in rows}


TABLES = (("kpi_location_histograms", "kpi_location_buckets", "location_id"),
          ("kpi_channel_histograms", "kpi_channel_buckets", "channel_id"))


def test_the_histogram_backfills_write_what_the_rollup_writes(scratch_app):
    with scratch_app.app_context():
        upgrade()
        h = History()
        h.ank = factories.location("ANK", time_zone="Europe/Istanbul")
        rng = random.Random(2123)
        for _ in range(150):  # packed over four weeks of November, with a stock push or two
            received = datetime(2026, 11, 2) + timedelta(minutes=rng.randrange(0, 27 * 24 * 60))
            location, channel = rng.choice((h.ist, h.lon, h.ank)), rng.choice((h.web, h.ty))
            package = h.package(location, channel, received,
                                placed=received - timedelta(seconds=rng.choice((0, 7, 61, 300))))
            h.pack(package, received + timedelta(seconds=rng.choice((50, 400, 3000, 9000, 40000))))
        db.session.add(ChannelStockSync(channel_id=h.web.id, product_id=h.product.id, quantity=4,
                                        pushed_at=datetime(2026, 11, 11, 9), delay_ms=2500))
        db.session.commit()
        kpi_rollups.rebuild(FIRST, LAST)
        rollup = {table: _histograms(table, key) for table, _buckets, key in TABLES}
        full = {table: _bucket_sums("kpi_day_buckets", key) for table, _buckets, key in TABLES}
        assert {span for table in rollup for (_d, span, _o, _m) in rollup[table]} == set(range(1, 8))
        db.session.commit()
        db.session.remove()

        downgrade(revision="0020")
        # At 0020 the second rollup's bucket tables hold the buckets per (day, location/channel).
        for table, buckets, key in TABLES:
            assert _bucket_sums(buckets, key) == full[table]
            assert len(full[table]) > 100
        db.session.remove()

        upgrade(revision="0021")
        for table, _buckets, key in TABLES:
            backfilled = _histograms(table, key)
            # 0021: the day and week rows, exactly the rollup's
            assert backfilled == {k: v for k, v in rollup[table].items() if k[1] in (1, 7)}
        db.session.remove()

        upgrade()
        for table, _buckets, key in TABLES:
            # 0023: each week's first and last 2-6 days as well — now every row the rollup writes
            assert _histograms(table, key) == rollup[table]
        db.session.remove()
