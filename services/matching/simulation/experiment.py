"""Every policy over the same replications: population r is drawn from seed + r once and
run under each policy (common random numbers)."""

from collections.abc import Callable

from services.matching.simulation.model import Assumptions, draw_population
from services.matching.simulation.report import Metrics, metrics
from services.matching.simulation.simulate import MATCHERS, POLICIES, run


def replicate(
    a: Assumptions,
    *,
    replications: int,
    seed: int,
    policies: tuple[str, ...] = POLICIES,
    on_step: Callable[[], None] = lambda: None,
) -> dict[str, list[Metrics]]:
    results: dict[str, list[Metrics]] = {p: [] for p in policies}
    for r in range(replications):
        population = draw_population(a, seed + r)
        for policy in policies:
            results[policy].append(metrics(population, a, run(population, a, MATCHERS[policy], policy)))
            on_step()
    return results
