"""Learning-rate schedules that fit a shortened run.

mmengine gives a scheduler without ``end`` the run's end (``max_epochs`` or ``max_iters``). A config whose warmup
lasts one epoch and whose cosine begins after it therefore failed with ``max_epochs=1`` (a smoke run, or
``--cfg-options train_cfg.max_epochs=1``) with "end should be larger than begin, but got begin=45, end=45", in
iterations the user never wrote. A scheduler that would begin at or after the run's end never acts: it is left out,
with a log line. One whose own ``end`` is not after its ``begin`` is a config error, named by its place in the list.
"""
from __future__ import annotations

from typing import Sequence


def schedulers_in_run(schedulers: Sequence, max_epochs: int | None, max_iters: int | None,
                      where: str = 'param_scheduler') -> tuple[list, list[str]]:
    """The scheduler configs of ``schedulers`` that act within the run, and a line for each one left out.

    ``max_epochs``/``max_iters``: the train loop's ends (None when no train loop is built: nothing is checked).
    Built scheduler objects pass as they are. ValueError for a scheduler whose ``end`` is not after its ``begin``.
    """
    kept, left_out = [], []
    for index, scheduler in enumerate(schedulers):
        if not isinstance(scheduler, dict):
            kept.append(scheduler)
            continue
        by_epoch = scheduler.get('by_epoch', True)
        unit = 'epoch' if by_epoch else 'iteration'
        begin = scheduler.get('begin', 0)
        name = f"{where}[{index}] ({scheduler.get('type')})"
        run_end = max_epochs if by_epoch else max_iters
        if 'end' in scheduler:
            if scheduler['end'] <= begin:
                raise ValueError(f"{name}: end={scheduler['end']} must be after begin={begin} ({unit}s)")
        elif run_end is not None and begin >= run_end:
            left_out.append(f'{name} begins at {unit} {begin}, at or after the end of training ({run_end} '
                            f'{unit}s): left out, it would never act')
            continue
        kept.append(scheduler)
    return kept, left_out
