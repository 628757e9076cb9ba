"""Random pools of units and households with roughly English proportions, for the
engine's tests and benchmarks (the real pool comes from the register through the loader)."""

import numpy as np

from services.matching.engine.arrays import N_NEEDS, N_REGIONS, NO_RELIGION, Households, Units

UK_LAT, UK_LON = (50.5, 55.0), (-3.5, 1.0)
US_LAT, US_LON = (25.0, 49.0), (-124.0, -67.0)


def random_units(
    rng: np.random.Generator, n: int, area: tuple[tuple[float, float], tuple[float, float]] = (UK_LAT, UK_LON)
) -> Units:
    size = rng.choice([1, 2, 3, 4], size=n, p=[0.64, 0.27, 0.07, 0.02]).astype(np.int16)
    youngest = rng.integers(0, 96, size=n)
    oldest = youngest + (size - 1) * rng.integers(12, 36, size=n)
    needs = rng.choice(4, size=(n, N_NEEDS), p=[0.45, 0.33, 0.17, 0.05]).astype(np.int8)
    restricted = rng.random(n) < 0.1
    excluded = np.zeros((n, N_REGIONS), dtype=bool)
    excluded[np.flatnonzero(rng.random(n) < 0.03), rng.integers(0, N_REGIONS)] = True
    lat, lon = rng.uniform(*area[0], size=n), rng.uniform(*area[1], size=n)
    return Units(
        size=size,
        age_min_months=youngest.astype(np.int16),
        age_max_months=oldest.astype(np.int16),
        needs=needs,
        days_waiting=rng.gamma(1.4, 210, size=n).astype(np.int32),
        disabled=(needs[:, 0] >= 2) | (needs[:, 1] >= 2),
        minority_ethnic=rng.random(n) < 0.2,
        latitude=lat,
        longitude=lon,
        excluded_regions=excluded,
        birth_latitude=(lat + rng.normal(0, 0.05, n))[:, None],
        birth_longitude=(lon + rng.normal(0, 0.05, n))[:, None],
        min_distance_km=np.where(restricted, rng.integers(10, 60, size=n), 0).astype(np.float64)[:, None],
        ethnicity=rng.choice(6, size=n, p=[0.8, 0.04, 0.09, 0.03, 0.03, 0.01]).astype(np.int8),
        religion=np.where(rng.random(n) < 0.6, NO_RELIGION, rng.integers(1, 8, size=n)).astype(np.int8),
        languages=np.where(rng.random(n) < 0.05, 3, 1).astype(np.uint32),
        contact_plan=rng.choice(4, size=n, p=[0.1, 0.7, 0.15, 0.05]).astype(np.int8),
        available=np.ones(n, dtype=bool),
    )


def random_households(
    rng: np.random.Generator, m: int, area: tuple[tuple[float, float], tuple[float, float]] = (UK_LAT, UK_LON)
) -> Households:
    capacity = rng.choice([1, 2, 3, 4], size=m, p=[0.55, 0.35, 0.08, 0.02]).astype(np.int16)
    age_max = rng.choice([59, 83, 107, 131], size=m, p=[0.55, 0.25, 0.12, 0.08]).astype(np.int16)
    return Households(
        available=rng.random(m) < 0.95,
        capacity=capacity,
        age_min_months=np.zeros(m, dtype=np.int16),
        age_max_months=age_max,
        can_meet=rng.choice(4, size=(m, N_NEEDS), p=[0.05, 0.3, 0.45, 0.2]).astype(np.int8),
        accepts_siblings=(capacity > 1) & (rng.random(m) < 0.9),
        region=rng.integers(0, N_REGIONS, m).astype(np.int8),
        latitude=rng.uniform(*area[0], size=m),
        longitude=rng.uniform(*area[1], size=m),
        ethnicity=rng.choice(6, size=m, p=[0.85, 0.03, 0.05, 0.04, 0.02, 0.01]).astype(np.int8),
        religion=np.where(rng.random(m) < 0.6, NO_RELIGION, rng.integers(1, 8, size=m)).astype(np.int8),
        languages=np.ones(m, dtype=np.uint32),
        contact_openness=rng.choice([1, 2, 3], size=m, p=[0.55, 0.35, 0.1]).astype(np.int8),
    )
