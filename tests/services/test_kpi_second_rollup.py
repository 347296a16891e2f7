"""The buckets summed per (day, location) and per (day, channel) — the day rows of the histogram
tables — and the figures the page computes from them (or, with a location and a channel both
picked, from the full rollup in SQL) are exactly those computed by hand from the raw history.

A seeded random history over three locations (two time zones), two channels and three days:
each packed package's processing time and each order's arrival delay are recomputed here from
the rows written, bucketed as docs/kpis.md says, and ranked by nearest rank in Python, for every
combination of filters the page can ask (none, a location, a channel, both, two locations).
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.kpis import KpiChannelHistogram, KpiDayBucket, KpiLocationHistogram
from app.services import kpi_rollups, kpis
from tests import factories
from tests.kpi_history import History, at

FIRST, LAST = date(2026, 11, 9), date(2026, 11, 12)


def nearest_rank(values: list[int], p: int) -> int | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


@pytest.fixture
def world(app):
    h = History()
    h.ank = factories.location("ANK", time_zone="Europe/Istanbul")
    zones = {h.ist.id: ZoneInfo("Europe/Istanbul"), h.lon.id: ZoneInfo("UTC"), h.ank.id: ZoneInfo("Europe/Istanbul")}
    rng = random.Random(21)
    raw = []  # (local day, location id, channel id, processing seconds, arrival delay seconds)
    for _ in range(90):
        location = rng.choice((h.ist, h.lon, h.ank))
        channel = rng.choice((h.web, h.ty))
        received = at(10, 0) + timedelta(minutes=rng.randrange(0, 2 * 24 * 60))
        placed = received - timedelta(seconds=rng.choice((0, 5, 37, 61, 119, 300)))
        package = h.package(location, channel, received, placed=placed)
        # spread over the buckets: seconds, minutes, 5-minute and 30-minute steps
        took = timedelta(seconds=rng.choice((45, 100, 200, 1300, 2500, 7000, 9000, 20000, 40000, 100000)))
        packed = received + took
        h.pack(package, packed)
        day = packed.replace(tzinfo=ZoneInfo("UTC")).astimezone(zones[location.id]).date()
        raw.append((day, location.id, channel.id, int(took.total_seconds()), int((received - placed).total_seconds()),
                    received.replace(tzinfo=ZoneInfo("UTC")).astimezone(zones[location.id]).date()))
    db.session.commit()
    kpi_rollups.rebuild(FIRST, LAST)
    return h, raw


def reference(raw, location_ids, channel_ids, key):
    """metric -> group -> (median, p90) from the raw rows, bucketed as the rollup does."""
    processing, arrival = defaultdict(list), defaultdict(list)
    for day, loc, ch, took, delay, received_day in raw:
        if (location_ids is None or loc in location_ids) and (channel_ids is None or ch in channel_ids):
            group = {"day": day, "location": loc, "channel": ch, None: None}[key]
            if FIRST <= day <= LAST:
                processing[group].append(kpi_rollups.bucket_of(took))
            arrival_group = {"day": received_day, "location": loc, "channel": ch, None: None}[key]
            if FIRST <= received_day <= LAST:
                arrival[arrival_group].append(kpi_rollups.bucket_of(delay))
    return processing, arrival


FILTERS = [("none", None, None), ("one location", ("ist",), None), ("one channel", None, ("ty",)),
           ("both", ("lon",), ("web",)), ("two locations", ("ist", "ank"), None),
           ("two locations and a channel", ("ist", "ank"), ("web",))]


@pytest.mark.parametrize(("name", "locs", "chans"), FILTERS, ids=[f[0] for f in FILTERS])
def test_figures_from_the_second_rollup_match_the_raw_history(world, name, locs, chans):
    h, raw = world
    by_code = {"ist": h.ist.id, "lon": h.lon.id, "ank": h.ank.id, "web": h.web.id, "ty": h.ty.id}
    location_ids = tuple(by_code[c] for c in locs) if locs else None
    channel_ids = tuple(by_code[c] for c in chans) if chans else None
    report = kpis.report(kpis.KpiFilters(FIRST, LAST, location_ids, channel_ids), [h.ist, h.lon, h.ank],
                         [h.web, h.ty])
    checked = 0
    for key, table, column in ((None, None, None), ("day", "days", "day"), ("location", "locations", "location"),
                               ("channel", "channels", "channel")):
        processing, arrival = reference(raw, location_ids, channel_ids, key)
        if key is None:
            rows = {None: report.totals}
        else:
            codes = ({h.ist.id: "IST", h.lon.id: "LON", h.ank.id: "ANK"} if key == "location"
                     else {h.web.id: "web", h.ty.id: "ty"})
            rows = {r[column]: r for r in report.tables[table].rows}
            processing = {(g if key == "day" else codes[g]): v for g, v in processing.items()}
            arrival = {(g if key == "day" else codes[g]): v for g, v in arrival.items()}
        for group, row in rows.items():
            values = processing.get(group, [])
            assert row["packed"] == len(values), (key, group)
            expected = (nearest_rank(values, 50), nearest_rank(values, 90))
            got = (row["processing_median_min"], row["processing_p90_min"])
            assert got == tuple(None if v is None else round(v / 60, 1) for v in expected), (key, group)
            delays = arrival.get(group, [])
            assert (row["order_sync_median_s"], row["order_sync_p90_s"]) == (
                nearest_rank(delays, 50), nearest_rank(delays, 90)), (key, group)
            checked += len(values)
    assert checked > 0


def test_the_day_histograms_are_the_full_rollup_summed(world):
    def sums(key):
        return {tuple(r[:-1]): int(r[-1]) for r in db.session.execute(
            select(KpiDayBucket.day, key, KpiDayBucket.metric, KpiDayBucket.bucket, func.sum(KpiDayBucket.count))
            .group_by(KpiDayBucket.day, key, KpiDayBucket.metric, KpiDayBucket.bucket))}

    def day_rows(model, key):
        out = {}
        for day, owner, metric, counts in db.session.execute(
                select(model.day, key, model.metric, model.counts).where(model.span_days == 1)):
            flat = kpi_rollups.decode(counts)
            out.update({(day, owner, metric, b): n for b, n in zip(flat[::2], flat[1::2], strict=True)})
        return out

    for model, key, full in ((KpiLocationHistogram, KpiLocationHistogram.location_id, KpiDayBucket.location_id),
                             (KpiChannelHistogram, KpiChannelHistogram.channel_id, KpiDayBucket.channel_id)):
        before = day_rows(model, key)
        assert before == sums(full)
        assert len(before) > 100
        # a rebuild replaces the rows of its days instead of adding to them
        kpi_rollups.rebuild(FIRST, LAST)
        assert day_rows(model, key) == before


def test_only_a_location_and_a_channel_both_picked_read_the_full_rollup():
    f = kpis.KpiFilters
    assert kpis.histogram_source(f(FIRST, LAST, (1,), (1,)), "day") is None
    assert kpis.histogram_source(f(FIRST, LAST, (1,), (1,)), None) is None
    assert kpis.bucket_source(f(FIRST, LAST, (1,), (1,)), "day") is KpiDayBucket
    for by in (None, "day", "location", "channel"):
        assert kpis.histogram_source(f(FIRST, LAST, None, None), by) is not None
