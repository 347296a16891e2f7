"""Distances and the offline coordinates provider."""

from __future__ import annotations

import pytest

from app.services.planning import geo


def test_great_circle_istanbul_to_ankara_is_about_350_km():
    assert geo.great_circle_km(41.01, 28.97, 39.93, 32.86) == pytest.approx(350, abs=10)


def test_offline_provider_knows_districts_and_provinces_whatever_the_spelling():
    kadikoy = geo.offline_lookup("ISTANBUL", "Kadikoy")
    assert kadikoy == pytest.approx((40.99, 29.03), abs=0.02)
    izmir = geo.offline_lookup("izmir", None)
    assert izmir == pytest.approx((38.42, 27.14), abs=0.05)
    # A district the hand table does not list comes from the GeoNames data of the province.
    assert geo.offline_lookup("Bursa", "İnegöl") == pytest.approx((40.08, 29.51), abs=0.05)
    assert geo.offline_lookup("Atlantis", None) is None


def test_the_none_provider_never_guesses():
    assert geo.locate("Istanbul", "Kadıköy", "none") is None
