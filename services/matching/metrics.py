"""The matching service's Prometheus metrics (served at /metrics with the rest)."""

from prometheus_client import Histogram

MATCH_RUN_SECONDS = Histogram(
    "match_run_duration_seconds", "Whole match runs, load to store", buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300)
)
MATCH_RUN_UNITS = Histogram(
    "match_run_units", "Units (sibling groups) in a match run", buckets=(10, 100, 500, 1000, 2000, 5000, 20000, 100000)
)
