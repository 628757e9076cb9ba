"""Test fixtures live in tests/fixtures/, one module per concern (see its modules):

- database: a real PostgreSQL (TEST_DATABASE_URL's server, or an embedded one under
  .data/test-postgres), templates migrated and seeded once per run, a database per xdist
  worker, each test in a rolled-back transaction;
- tokens: real JWTs minted with a key made there, so scope checks run end to end;
- app: the app on the test's connection, httpx clients through ASGITransport;
- processes: real server processes on loopback;
- logs: no personal name in any log line of the run;
- accounts, adopters, fees, links, oauth, scorecards, support: records and journeys of one
  domain that tests of other domains build on (fixtures, and helpers imported by name).

A test module never imports from another test module or from a conftest
(tests/test_layers.py checks it).
"""

import os

import pytest

# Before any settings are read, in this process and the server processes it starts: the tests
# hash hundreds of passwords and check what is done with a hash, not its cost to crack (64 MiB
# and 3 passes each by default; tests/register/oauth/test_password_hashing.py checks that).
os.environ.setdefault("PASSWORD_HASH_MEMORY_KIB", "1024")

pytest_plugins = [
    "tests.fixtures.logs",
    "tests.fixtures.database",
    "tests.fixtures.tokens",
    "tests.fixtures.app",
    "tests.fixtures.processes",
    "tests.fixtures.oauth",  # before accounts, which builds on it
    "tests.fixtures.accounts",
    "tests.fixtures.adopters",
    "tests.fixtures.links",
    "tests.fixtures.scorecards",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A stable sort: the slow modules first, each module's tests still in their own order.
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
