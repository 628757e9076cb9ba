"""Test fixtures live in tests/fixtures/, one module per concern (see its modules):

- database: a real PostgreSQL (TEST_DATABASE_URL's server, or an embedded one under
  .data/test-postgres), templates migrated and seeded once per run, a database per xdist
  worker, each test in a rolled-back transaction;
- tokens: real JWTs minted with a key made there, so scope checks run end to end;
- app: the app on the test's connection, httpx clients through ASGITransport;
- processes: real server processes on loopback;
- logs: no personal name in any log line of the run.
"""

pytest_plugins = [
    "tests.fixtures.logs",
    "tests.fixtures.database",
    "tests.fixtures.tokens",
    "tests.fixtures.app",
    "tests.fixtures.processes",
]
