"""Side-by-side timing on a shared machine: every variant timed in each round, in a new order each round, and speed
reported as the median of per-round ratios against a reference timed in the same round (load that changes
between rounds hits both sides of a ratio alike). No absolute time is a result on a shared machine.

The order is shuffled, not rotated: a rotation keeps each variant behind the same neighbour in every round, and a
runtime that leaves work behind (onnxruntime's spinning threads took ~7% from the variant after it) would always
charge the same one."""
from __future__ import annotations

import random
import statistics
import time
from typing import Callable


def interleaved(runs: dict[str, Callable[[], object]], rounds: int, warmup: int = 1,
                seed: int = 0) -> dict[str, list[float]]:
    """Seconds per call of each run, ``rounds`` times, each round in its own order (shuffled from ``seed``, so a
    rerun times in the same orders)."""
    if rounds < 1 or warmup < 0:
        raise ValueError(f'interleaved: rounds must be >= 1 and warmup >= 0; got {rounds}, {warmup}')
    for run in runs.values():
        for _ in range(warmup):
            run()
    names, shuffler = list(runs), random.Random(seed)
    times: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(rounds):
        for name in shuffler.sample(names, len(names)):
            start = time.perf_counter()
            runs[name]()
            times[name].append(time.perf_counter() - start)
    return times


def ratios(times: dict[str, list[float]], reference: str) -> dict[str, dict[str, float]]:
    """Per variant: median speed-up over ``reference`` (per-round ratios), its min and max, median seconds."""
    if reference not in times:
        raise ValueError(f'ratios: reference {reference!r} was not timed; timed: {sorted(times)}')
    out = {}
    for name, values in times.items():
        paired = [ref / t for ref, t in zip(times[reference], values)]
        out[name] = {'speedup': statistics.median(paired), 'min': min(paired), 'max': max(paired),
                     'seconds': statistics.median(values)}
    return out


def table(result: dict[str, dict[str, float]], units: float, unit: str, extra: dict[str, dict] | None = None,
          reference: str = '') -> str:
    """Rows: variant, median throughput (``units`` per call, e.g. images), speed-up range, extra columns."""
    extra = extra or {}
    keys = sorted({k for cols in extra.values() for k in cols})
    lines = [f"{'variant':28}{unit:>12}  {'speed-up vs ' + reference:<34}" + ''.join(f'{k:>{max(14, len(k) + 2)}}' for k in keys)]
    for name, r in result.items():
        cols = ''.join(f'{_fmt(extra.get(name, {}).get(k)):>{max(14, len(k) + 2)}}' for k in keys)
        speed = f"{r['speedup']:.2f} ({r['min']:.2f}-{r['max']:.2f})"
        lines.append(f"{name:28}{units / r['seconds']:>12.3g}  {speed:<34}" + cols)
    return '\n'.join(lines)


def _fmt(value) -> str:
    if value is None:
        return '-'
    return f'{value:.5f}' if isinstance(value, float) else str(value)
