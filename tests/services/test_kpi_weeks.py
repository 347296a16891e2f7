"""The KPI histograms (one row per day, per Monday-to-Sunday week, and per first and last 2-6 days
of each week: migrations 0021, 0023) give exactly the figures of the bucket rollup and of the raw
history, for ranges that start and end mid-week, on a week's edges, inside one week, and over
empty days, in two time zones.

History: three locations (IST and ANK in Europe/Istanbul, LON in UTC), two channels, packages
packed from Thursday 5 to Wednesday 25 November 2026 (Mondays: 2, 9, 16, 23, 30 November) with
nothing at all on 12-14 November; a few packed just before midnight UTC on a Sunday, which is
already Monday (the next week) in Istanbul.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.kpis import WEEK, KpiChannelHistogram, KpiDayBucket, KpiLocationHistogram
from app.services import kpi_rollups, kpis
from tests import factories
from tests.kpi_history import History

UTC = ZoneInfo("UTC")
IST = ZoneInfo("Europe/Istanbul")
EMPTY = {date(2026, 11, 12), date(2026, 11, 13), date(2026, 11, 14)}


def nearest_rank(values: list[int], p: int) -> int | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


def local_day(when: datetime, zone: ZoneInfo) -> date:
    return when.replace(tzinfo=UTC).astimezone(zone).date()


@pytest.fixture
def world(app):
    h = History()
    h.ank = factories.location("ANK", time_zone="Europe/Istanbul")
    zones = {h.ist.id: IST, h.lon.id: UTC, h.ank.id: IST}
    rng = random.Random(2107)
    raw = []  # (local packed day, local hour, location id, channel id, processing s, delay s, local received day)

    def add(location, channel, received: datetime, took: timedelta, delay: int) -> None:
        package = h.package(location, channel, received, placed=received - timedelta(seconds=delay))
        packed = received + took
        h.pack(package, packed)
        zone = zones[location.id]
        raw.append((local_day(packed, zone), packed.replace(tzinfo=UTC).astimezone(zone).hour, location.id,
                    channel.id, int(took.total_seconds()), delay, local_day(received, zone)))

    start = datetime(2026, 11, 5, 0, 0)
    while len(raw) < 240:
        received = start + timedelta(minutes=rng.randrange(0, 20 * 24 * 60))
        took = timedelta(seconds=rng.choice((40, 95, 200, 1300, 2500, 4000, 7000, 9000, 20000, 40000)))
        location = rng.choice((h.ist, h.lon, h.ank))
        if {local_day(received, zones[location.id]), local_day(received + took, zones[location.id])} & EMPTY:
            continue
        add(location, rng.choice((h.web, h.ty)), received, took, rng.choice((0, 3, 37, 61, 119, 300)))
    # Sunday 15 Nov 22:30 UTC = Monday 16 Nov 01:30 in Istanbul: IST's next week, LON's this week.
    add(h.ist, h.web, datetime(2026, 11, 15, 22, 0), timedelta(minutes=30), 5)
    add(h.lon, h.web, datetime(2026, 11, 15, 22, 0), timedelta(minutes=30), 5)
    db.session.commit()
    kpi_rollups.rebuild(date(2026, 11, 1), date(2026, 11, 30))
    return h, raw, zones


RANGES = [
    ("mid-week to mid-week (two whole weeks between)", date(2026, 11, 4), date(2026, 11, 26)),
    ("Monday to Sunday, two whole weeks", date(2026, 11, 9), date(2026, 11, 22)),
    ("Tuesday to the next Monday (no whole week)", date(2026, 11, 10), date(2026, 11, 16)),
    ("Monday to Saturday of one week", date(2026, 11, 16), date(2026, 11, 21)),
    ("Sunday to Monday (one day each side of a week's edge)", date(2026, 11, 15), date(2026, 11, 16)),
    ("Wednesday to the Sunday after next (one whole week and empty days)", date(2026, 11, 11), date(2026, 11, 22)),
    ("only empty days", date(2026, 11, 12), date(2026, 11, 14)),
    ("one day", date(2026, 11, 18), date(2026, 11, 18)),
    ("the whole month", date(2026, 11, 1), date(2026, 11, 30)),
    ("Monday to Wednesday (a week's first days)", date(2026, 11, 16), date(2026, 11, 18)),
    ("Thursday to Sunday (a week's last days)", date(2026, 11, 19), date(2026, 11, 22)),
    ("Tuesday to Thursday (days inside one week)", date(2026, 11, 17), date(2026, 11, 19)),
    ("Saturday to the Friday after next (2 last days, a week, 5 first days)", date(2026, 11, 7), date(2026, 11, 20)),
    ("Sunday to the Monday after next (a week's last day and the next week's first)", date(2026, 11, 8),
     date(2026, 11, 23)),
    ("Friday to Saturday over empty days (last days from empty ones)", date(2026, 11, 13), date(2026, 11, 21)),
]
FILTERS = [("every location and channel", None, None), ("one location", ("ist",), None),
           ("one channel", None, ("ty",)), ("two locations", ("ist", "lon"), None)]


def _ids(h, codes):
    by_code = {"ist": h.ist.id, "lon": h.lon.id, "ank": h.ank.id, "web": h.web.id, "ty": h.ty.id}
    return tuple(by_code[c] for c in codes) if codes else None


def test_a_range_is_its_first_weeks_last_days_its_whole_weeks_and_its_last_weeks_first_days():
    spans = kpis.spans
    # Thursday 5 to Thursday 26 November: the last 4 days of the week of 2 November, two weeks,
    # the first 4 days of the week of 23 November
    assert spans(date(2026, 11, 5), date(2026, 11, 26)) == kpis.Spans(
        rows=((date(2026, 11, 5), 4), (date(2026, 11, 23), 4)), weeks=(date(2026, 11, 9), date(2026, 11, 16)))
    assert spans(date(2026, 11, 9), date(2026, 11, 22)) == kpis.Spans(weeks=(date(2026, 11, 9), date(2026, 11, 16)))
    assert spans(date(2026, 11, 10), date(2026, 11, 16)) == kpis.Spans(
        rows=((date(2026, 11, 10), 6), (date(2026, 11, 16), 1)))
    assert spans(date(2026, 11, 16), date(2026, 11, 21)) == kpis.Spans(rows=((date(2026, 11, 16), 6),))
    assert spans(date(2026, 11, 19), date(2026, 11, 22)) == kpis.Spans(rows=((date(2026, 11, 19), 4),))
    assert spans(date(2026, 11, 18), date(2026, 11, 18)) == kpis.Spans(days=(date(2026, 11, 18), date(2026, 11, 18)))
    assert spans(date(2026, 11, 17), date(2026, 11, 19)) == kpis.Spans(days=(date(2026, 11, 17), date(2026, 11, 19)))
    assert spans(date(2026, 11, 16), date(2026, 11, 22)) == kpis.Spans(rows=((date(2026, 11, 16), 7),))
    # every day of a range is in exactly one of its rows, for every start and length up to 40 days
    for offset in range(7):
        for length in range(1, 41):
            first = date(2026, 11, 2) + timedelta(days=offset)
            last = first + timedelta(days=length - 1)
            shape = spans(first, last)
            covered = [d + timedelta(days=n) for d, span in shape.rows for n in range(span)]
            if shape.weeks:
                monday = shape.weeks[0]
                while monday <= shape.weeks[1]:
                    covered += [monday + timedelta(days=n) for n in range(WEEK)]
                    monday += timedelta(days=WEEK)
            if shape.days:
                covered += [shape.days[0] + timedelta(days=n) for n in range((shape.days[1] - shape.days[0]).days + 1)]
            assert sorted(covered) == [first + timedelta(days=n) for n in range(length)], (first, last)
            assert len(shape.rows) + (1 if shape.days else 0) <= 2
            for day, span in shape.rows:  # a week's first days start on its Monday, its last end on its Sunday
                assert day.weekday() == 0 or day.weekday() + span == WEEK


def test_whole_weeks():
    assert kpis.whole_weeks(date(2026, 11, 4), date(2026, 11, 26)) == (date(2026, 11, 9), date(2026, 11, 16))
    assert kpis.whole_weeks(date(2026, 11, 9), date(2026, 11, 15)) == (date(2026, 11, 9), date(2026, 11, 9))
    assert kpis.whole_weeks(date(2026, 11, 9), date(2026, 11, 14)) is None
    assert kpis.whole_weeks(date(2026, 11, 10), date(2026, 11, 16)) is None
    assert kpis.whole_weeks(date(2026, 11, 15), date(2026, 11, 16)) is None
    assert kpis.whole_weeks(date(2026, 11, 1), date(2026, 11, 30)) == (date(2026, 11, 2), date(2026, 11, 23))


@pytest.mark.parametrize(("name", "locs", "chans"), FILTERS, ids=[f[0] for f in FILTERS])
def test_weeks_and_edge_days_give_the_figures_of_the_daily_buckets_and_the_raw_history(world, name, locs, chans):
    h, raw, _zones = world
    for range_name, first, last in RANGES:  # one history for every range: building it is the cost
        filters = kpis.KpiFilters(first, last, _ids(h, locs), _ids(h, chans))
        checked = 0
        for by in (None, "day", "location", "channel"):
            if kpis.histogram_source(filters, by) is None:
                continue
            got = kpis.percentiles(filters, by)
            # the same figures as the SQL over the per-day bucket rollups (the path before the histograms)
            expected_sql = kpis.bucket_percentiles(filters, by)
            assert {g: dict(m) for g, m in got.items()} == {g: dict(m) for g, m in expected_sql.items()}, (range_name, by)
            # and as the raw history, bucketed and ranked by hand
            processing, arrival = defaultdict(list), defaultdict(list)
            for packed_day, _hour, loc, ch, took, delay, received_day in raw:
                if (filters.location_ids and loc not in filters.location_ids) or \
                        (filters.channel_ids and ch not in filters.channel_ids):
                    continue
                group = {"day": packed_day, "location": loc, "channel": ch, None: None}[by]
                if first <= packed_day <= last:
                    processing[group].append(kpi_rollups.bucket_of(took))
                    checked += 1
                arrival_group = {"day": received_day, "location": loc, "channel": ch, None: None}[by]
                if first <= received_day <= last:
                    arrival[arrival_group].append(kpi_rollups.bucket_of(delay))
            for group in set(processing) | set(arrival) | set(got):
                assert got.get(group, {}).get("processing", (None, None)) == (
                    nearest_rank(processing.get(group, []), 50), nearest_rank(processing.get(group, []), 90)), (range_name, by, group)
                assert got.get(group, {}).get("order_sync", (None, None)) == (
                    nearest_rank(arrival.get(group, []), 50), nearest_rank(arrival.get(group, []), 90)), (range_name, by, group)
        if range_name == "only empty days":
            assert checked == 0
            assert kpis.percentiles(filters, None) == {}
        elif filters.channel_ids is None or filters.location_ids is None:
            assert checked > 0, range_name


def test_packed_by_hour_from_the_histograms_matches_the_raw_history(world):
    h, raw, _zones = world
    for range_name, first, last in RANGES:
        for locs in (None, ("ank",)):
            filters = kpis.KpiFilters(first, last, _ids(h, locs), None)
            hours, active = kpis.packed_by_hour(filters)
            expected: dict[int, int] = defaultdict(int)
            pairs = set()
            for packed_day, hour, loc, _ch, *_ in raw:
                if first <= packed_day <= last and (filters.location_ids is None or loc in filters.location_ids):
                    expected[hour] += 1
                    pairs.add((packed_day, hour))
            assert dict(hours) == dict(expected), range_name
            assert active == len(pairs), range_name


def test_a_page_report_over_weeks_equals_the_raw_history(world):
    h, raw, _zones = world
    report = kpis.report(kpis.KpiFilters(date(2026, 11, 4), date(2026, 11, 26), None, None), [h.ist, h.lon, h.ank],
                         [h.web, h.ty])
    packed = [r for r in raw if date(2026, 11, 4) <= r[0] <= date(2026, 11, 26)]
    assert report.totals["packed"] == len(packed)
    assert report.totals["processing_median_min"] == round(
        nearest_rank([kpi_rollups.bucket_of(r[4]) for r in packed], 50) / 60, 1)
    rows = {r["location"]: r for r in report.tables["locations"].rows}
    for code, loc in (("IST", h.ist), ("LON", h.lon), ("ANK", h.ank)):
        mine = [kpi_rollups.bucket_of(r[4]) for r in packed if r[2] == loc.id]
        assert rows[code]["packed"] == len(mine)
        assert rows[code]["processing_p90_min"] == round(nearest_rank(mine, 90) / 60, 1)
    days = {r["day"]: r for r in report.tables["days"].rows}
    for empty in EMPTY:
        assert days[empty]["packed"] == 0 and days[empty]["processing_median_min"] is None


def _stored(model, key):
    out = {}
    for day, span, owner, metric, counts in db.session.execute(
            select(model.day, model.span_days, getattr(model, key), model.metric, model.counts)):
        flat = kpi_rollups.decode(counts)
        out[(day, span, owner, metric)] = dict(zip(flat[::2], flat[1::2], strict=True))
    return out


def _weeks_are_their_days(model, key):
    """Every row longer than a day — a week, a week's first or last 2-6 days — holds exactly the
    sum of its days, and every such span that has a day with anything has its row."""
    stored = _stored(model, key)
    summed: dict[tuple, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for (day, span, owner, metric), histogram in stored.items():
        if span == 1:
            monday = kpi_rollups.monday(day)
            sunday = monday + timedelta(days=WEEK - 1)
            spans = {(monday, k) for k in range(day.weekday() + 1, WEEK + 1)}  # the first days holding it
            spans |= {(sunday - timedelta(days=k - 1), k) for k in range(WEEK - day.weekday(), WEEK)}  # the last
            for first, k in spans:
                if k > 1:
                    for bucket, n in histogram.items():
                        summed[(first, k, owner, metric)][bucket] += n
    longer = {k: v for k, v in stored.items() if k[1] > 1}
    assert longer == {k: dict(v) for k, v in summed.items()}
    assert {k[1] for k in longer} == set(range(2, WEEK + 1))
    return stored


def test_week_rows_are_their_days_summed_and_follow_a_rebuild_of_part_of_a_week(world):
    for model, key in ((KpiLocationHistogram, "location_id"), (KpiChannelHistogram, "channel_id")):
        stored = _weeks_are_their_days(model, key)
        assert any(k[1] == WEEK for k in stored) and any(k[1] == 1 for k in stored)
    # The Sunday-night package: Monday 16 Nov in Istanbul (the next week), Sunday 15 Nov in London.
    h, raw, _zones = world
    assert [r[0] for r in raw[-2:]] == [date(2026, 11, 16), date(2026, 11, 15)]
    stored = _stored(KpiLocationHistogram, "location_id")

    def half_hours(day, loc):
        return sum(1 for r in raw if r[0] == day and r[2] == loc.id and kpi_rollups.bucket_of(r[4]) == 1800)

    for day, loc in ((date(2026, 11, 16), h.ist), (date(2026, 11, 15), h.ist), (date(2026, 11, 15), h.lon)):
        assert stored.get((day, 1, loc.id, "processing"), {}).get(1800, 0) == half_hours(day, loc)
    assert stored[(date(2026, 11, 16), WEEK, h.ist.id, "processing")][1800] >= 1
    before = stored
    # A rebuild of Wednesday-Thursday of one week keeps that week whole (its other days as stored).
    kpi_rollups.rebuild(date(2026, 11, 18), date(2026, 11, 19))
    assert _stored(KpiLocationHistogram, "location_id") == before
    # A package packed later on a Wednesday shows in that day and its week after the job's next run.
    package = h.package(h.lon, h.ty, datetime(2026, 11, 18, 10, 0))
    h.pack(package, datetime(2026, 11, 18, 10, 7))
    db.session.commit()
    kpi_rollups.rebuild(date(2026, 11, 18), date(2026, 11, 18))
    after = _weeks_are_their_days(KpiLocationHistogram, "location_id")
    week = (date(2026, 11, 16), WEEK, h.lon.id, "processing")
    assert after[week].get(420, 0) == before[week].get(420, 0) + 1
    changed = {k for k in after if after[k] != before.get(k)}
    # the day, its week, the week's first 3-6 days and its last 5-6 days (those holding Wednesday)
    holding = [(date(2026, 11, 18), 1), (date(2026, 11, 16), WEEK), *((date(2026, 11, 16), k) for k in (3, 4, 5, 6)),
               (date(2026, 11, 18), 5), (date(2026, 11, 17), 6)]
    assert changed == {(d, span, h.lon.id, m) for d, span in holding for m in ("processing", "order_sync", "packed_hour")}


@pytest.mark.parametrize(("name", "locs", "chans"), FILTERS, ids=[f[0] for f in FILTERS])
def test_the_page_report_gives_the_figures_of_the_full_rollup(world, name, locs, chans):
    """The report's totals (from the per-channel or per-location pairs), per-day, per-location and
    per-channel figures and packing hours, each against the SQL over the full bucket rollup."""
    h, _raw, _zones = world

    def shown(pcts):
        processing, sync = pcts.get("processing", (None, None)), pcts.get("order_sync", (None, None))
        return (None if processing[0] is None else round(processing[0] / 60, 1),
                None if processing[1] is None else round(processing[1] / 60, 1), *sync)

    def of(row):
        return (row["processing_median_min"], row["processing_p90_min"], row["order_sync_median_s"],
                row["order_sync_p90_s"])

    ids = {"location": {"IST": h.ist.id, "LON": h.lon.id, "ANK": h.ank.id}, "channel": {"web": h.web.id, "ty": h.ty.id}}
    for range_name, first, last in RANGES:  # one history for every range: building it is the cost
        filters = kpis.KpiFilters(first, last, _ids(h, locs), _ids(h, chans))
        report = kpis.report(filters, [h.ist, h.lon, h.ank], [h.web, h.ty])
        assert of(report.totals) == shown(kpis.bucket_percentiles(filters, None).get(None, {})), range_name
        for by, table, column in (("day", "days", "day"), ("location", "locations", "location"),
                                  ("channel", "channels", "channel")):
            expected = kpis.bucket_percentiles(filters, by)
            rows = report.tables[table].rows
            assert rows or by != "day", range_name
            for row in rows:
                group = row[column] if by == "day" else ids[by][row[column]]
                assert of(row) == shown(expected.get(group, {})), (range_name, by, row[column])
        hours: dict[int, int] = defaultdict(int)
        active = 0
        for _day, hour, n in db.session.execute(
                select(KpiDayBucket.day, KpiDayBucket.bucket, func.sum(KpiDayBucket.count))
                .where(*kpis._where(KpiDayBucket, filters), KpiDayBucket.metric == "packed_hour")
                .group_by(KpiDayBucket.day, KpiDayBucket.bucket)):
            hours[int(hour)] += int(n)
            active += 1
        assert report.hours == dict(hours), range_name
        assert report.totals["active_hours"] == active, range_name
        if range_name != "only empty days" and filters.location_ids != (h.ank.id,):
            assert report.totals["packed"] > 0, range_name


def test_the_page_reads_the_histograms_unless_a_location_and_a_channel_are_both_picked():
    f = kpis.KpiFilters
    first, last = date(2026, 11, 4), date(2026, 11, 26)
    assert kpis.histogram_source(f(first, last, None, None), "location") is KpiLocationHistogram
    assert kpis.histogram_source(f(first, last, None, None), "channel") is KpiChannelHistogram
    assert kpis.histogram_source(f(first, last, None, None), "day") is KpiChannelHistogram
    assert kpis.histogram_source(f(first, last, None, None), None) is KpiChannelHistogram
    assert kpis.histogram_source(f(first, last, (1,), None), "day") is KpiLocationHistogram
    assert kpis.histogram_source(f(first, last, None, (1,)), "location") is None
    assert kpis.histogram_source(f(first, last, (1,), None), "channel") is None
    assert kpis.histogram_source(f(first, last, (1,), (1,)), None) is None


def test_ranked_pairs_give_the_percentile_of_the_summed_buckets():
    rng = random.Random(7)
    for _ in range(300):
        pairs = [(rng.choice((0, 5, 60, 61, 300, 1800, 3600, 7200)), rng.randrange(0, 9))
                 for _ in range(rng.randrange(1, 30))]
        summed: dict[int, int] = defaultdict(int)
        for bucket, n in pairs:
            summed[bucket] += n
        assert kpis.ranked(list(pairs), 50, 90) == (kpis.percentile(summed, 50), kpis.percentile(summed, 90))
    assert kpis.ranked([], 50, 90) == (None, None)
    assert kpis.ranked([(60, 0)], 50) == (None,)
    # nearest rank of 10, 30 and 90 minutes: the median is 30, the p90 90 (docs/kpis.md)
    assert kpis.ranked([(600, 1), (5400, 1), (1800, 1)], 50, 90) == (1800, 5400)
