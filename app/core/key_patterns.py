"""Patterns that random keys do not show: runs, repeats, keyboard and alphabet walks.

Calibration. Every check fires only when random data of the key's own alphabet and
length would show that pattern with probability below ``CHANCE`` (a union bound over
positions, so the real rate is lower still). A naive substring blacklist ("1234", "aaaa",
"dead") refuses a few percent of random hex keys; these checks together refuse, by that
bound, a few random keys in 10^12, and the tests measure zero over tens of thousands of
generated keys.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from app.core.key_shape import SUCCESSORS, KeyShape, successor_counts

# Probability bound under which a pattern is judged "not random".
CHANCE = 1e-12


def _max_successors(alphabet: frozenset[str]) -> int:
    return max(successor_counts(alphabet).values(), default=0)


# --- probability-calibrated thresholds ---------------------------------------------------


def _min_run(n: int, size: int) -> int:
    """Shortest run of one character that random data would show with p < CHANCE."""
    # P(run of r somewhere) <= n * size^-(r-1)
    return math.floor(math.log(n / CHANCE) / math.log(size)) + 2


def _min_repeat(n: int, size: int) -> int:
    """Shortest substring whose reappearance random data would show with p < CHANCE."""
    # P(some m-gram appears twice) <= n^2/2 * size^-m
    return math.floor(math.log(n * n / 2 / CHANCE) / math.log(size)) + 1


def _min_walk(n: int, size: int, alphabet: frozenset[str]) -> int | None:
    """Shortest walk random data would show with p < CHANCE; None if walks can't exist."""
    steps = _max_successors(alphabet)
    if steps == 0:
        return None
    # P(walk of w chars somewhere) <= n * (steps/size)^(w-1)
    q = steps / size
    if q >= 1:
        return None
    return math.floor(math.log(n / CHANCE) / -math.log(q)) + 2


def few_distinct(n: int, size: int, distinct: int) -> bool:
    """True when random data would use this few distinct characters with p < CHANCE."""
    if distinct >= size:
        return False
    # P(all n chars fall in some d-subset) <= C(size, d) * (d/size)^n
    log_choose = (
        math.lgamma(size + 1) - math.lgamma(distinct + 1) - math.lgamma(size - distinct + 1)
    )
    log_p = log_choose + n * math.log(distinct / size)
    return log_p < math.log(CHANCE)


# --- pattern scanning ----------------------------------------------------------------------


@dataclass
class Patterns:
    longest_run: int = 0
    repeated: bool = False
    longest_walk: int = 0
    covered: list[bool] = field(default_factory=list)  # characters inside a flagged pattern


def scan_patterns(shape: KeyShape) -> Patterns:
    found = Patterns(covered=[False] * len(shape.text))
    _scan_runs(shape, found)
    _scan_repeats(shape, found)
    _scan_walks(shape, found)
    return found


def _scan_runs(shape: KeyShape, found: Patterns) -> None:
    text, n = shape.text, len(shape.text)
    floor = _min_run(n, shape.size)
    start = 0
    for i in range(1, n + 1):
        if i == n or text[i] != text[start]:
            if i - start >= floor:
                found.longest_run = max(found.longest_run, i - start)
                found.covered[start:i] = [True] * (i - start)
            start = i


def _scan_repeats(shape: KeyShape, found: Patterns) -> None:
    text, n = shape.text, len(shape.text)
    m = _min_repeat(n, shape.size)
    last_seen: dict[str, int] = {}
    for i in range(n - m + 1):
        gram = text[i : i + m]
        j = last_seen.get(gram)
        if j is not None:
            found.repeated = True
            found.covered[j : j + m] = [True] * m
            found.covered[i : i + m] = [True] * m
        last_seen[gram] = i


def _scan_walks(shape: KeyShape, found: Patterns) -> None:
    n = len(shape.text)
    floor = _min_walk(n, shape.size, shape.alphabet)
    if floor is None or floor > n:
        return
    folded = shape.text.lower()
    start = 0
    for i in range(1, n + 1):
        if i == n or folded[i] not in SUCCESSORS.get(folded[i - 1], ()):
            if i - start >= floor:
                found.longest_walk = max(found.longest_walk, i - start)
                found.covered[start:i] = [True] * (i - start)
            start = i


def is_padded_word(covered: list[bool]) -> bool:
    """Patterned filler around one short uncovered stretch: "password" + "1" * 40."""
    if not any(covered):
        return False
    uncovered = [i for i, flag in enumerate(covered) if not flag]
    if not 3 <= len(uncovered) <= 24:
        return False
    return uncovered[-1] - uncovered[0] + 1 == len(uncovered)
