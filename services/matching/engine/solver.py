"""Maximum-weight assignment of households to units, where any unit may stay unmatched.

Weights are integers: a pair's score plus one, so a match always counts for more than
leaving both unmatched. Two exact solvers, chosen by size:
- dense: `scipy.optimize.linear_sum_assignment` on the units x households matrix, with
  0 where there is no edge (assigning a non-edge is the same as staying unmatched);
- sparse: `scipy.sparse.csgraph.min_weight_full_bipartite_matching` on the edges, with
  one private "stay unmatched" column per unit so a full matching always exists. Costs are
  `offset - weight` so every stored cost is positive (sparse matrices drop zeros).
Both are exact on the edges they are given and deterministic for the same input.

Lexicographic mode (`priority` given): each priority unit's edges gain a bonus M larger
than the total weight of any matching. Then any matching with more priority units matched
outweighs every matching with fewer, and among those with the most, the total score
decides. The weights stay integers below 2**53, so float64 arithmetic is exact (checked).
"""

from dataclasses import dataclass
from typing import Literal

import numpy as np

Method = Literal["dense", "sparse"]
EXACT_FLOAT_LIMIT = 2**53


@dataclass(frozen=True)
class Edges:
    """The candidate pairs (rows[k] = unit, cols[k] = household) with their integer scores."""

    rows: np.ndarray
    cols: np.ndarray
    scores: np.ndarray
    n_units: int
    n_households: int


def solver_weights(edges: Edges, priority: np.ndarray | None) -> np.ndarray:
    weights = edges.scores.astype(np.int64) + 1
    if (int(weights.max(initial=0)) + 1) * min(edges.n_units, edges.n_households) >= EXACT_FLOAT_LIMIT:
        raise OverflowError("the scores would exceed exact float64 integers when summed")
    if priority is None:
        return weights
    any_matching_total = min(edges.n_units, edges.n_households) * (int(weights.max(initial=0)) + 1)
    bonus = any_matching_total + 1
    weighted = weights + bonus * priority[edges.rows].astype(np.int64)
    if (int(priority.sum()) + 1) * bonus >= EXACT_FLOAT_LIMIT:
        raise OverflowError("lexicographic weights would exceed exact float64 integers")
    return weighted


def solve(
    edges: Edges, *, priority: np.ndarray | None = None, dense_limit: int = 25_000_000, method: Method | None = None
) -> tuple[np.ndarray, Method]:
    """Returns (household index per unit or -1, the method used)."""
    # SciPy is imported on the first solve, not with the module: importing its optimize and
    # sparse packages costs about half a second of CPU, paid by every API process (which only
    # solves when a match run is asked for) and every CLI call.
    from scipy.optimize import linear_sum_assignment
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import min_weight_full_bipartite_matching

    weights = solver_weights(edges, priority)
    chosen: Method = method or ("dense" if edges.n_units * edges.n_households <= dense_limit else "sparse")
    assignment = np.full(edges.n_units, -1, dtype=np.int64)
    if len(weights) == 0:
        return assignment, chosen
    if chosen == "dense":
        matrix = np.zeros((edges.n_units, edges.n_households), dtype=np.float64)
        matrix[edges.rows, edges.cols] = weights
        rows, cols = linear_sum_assignment(matrix, maximize=True)
        real = matrix[rows, cols] > 0
        assignment[rows[real]] = cols[real]
        return assignment, chosen
    offset = int(weights.max()) + 1
    n, m = edges.n_units, edges.n_households
    data = np.concatenate([(offset - weights).astype(np.float64), np.full(n, float(offset))])
    rows = np.concatenate([edges.rows, np.arange(n)])
    cols = np.concatenate([edges.cols, m + np.arange(n)])
    graph = csr_matrix((data, (rows, cols)), shape=(n, m + n))
    matched_rows, matched_cols = min_weight_full_bipartite_matching(graph)
    real = matched_cols < m
    assignment[matched_rows[real]] = matched_cols[real]
    return assignment, chosen
