"""Prometheus metrics of interagency fees (served at /metrics with the rest)."""

from prometheus_client import Counter

FEE_LINES_RAISED = Counter("fee_lines_raised_total", "Interagency fee lines raised")
