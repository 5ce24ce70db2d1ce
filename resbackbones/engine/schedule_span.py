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


LINEAR_TYPES = ('LinearLR', 'LinearMomentum', 'LinearParamScheduler')


def check_iteration_spans(schedulers: Sequence, epoch_length: int, where: str = 'param_scheduler') -> None:
    """ValueError naming a scheduler that spans no iteration once ``convert_to_iter_based`` has rounded its epochs
    (mmengine: "end should be larger than begin, but got begin=0, end=0", in iterations nobody wrote), or a linear
    one that spans exactly one: its ``total_iters`` is then 0, it never leaves ``start_factor``, and a warmup from
    1e-6 kept the learning rate near 0 for the whole run without a word."""
    for index, scheduler in enumerate(schedulers):
        if not isinstance(scheduler, dict) or 'end' not in scheduler:
            continue
        begin, end = scheduler.get('begin', 0), scheduler['end']
        converted = scheduler.get('by_epoch', True) and scheduler.get('convert_to_iter_based', False)
        if converted:
            begin, end = int(begin * epoch_length), int(end * epoch_length)
        elif scheduler.get('by_epoch', True):
            continue  # stepped per epoch: spans are whole epochs, checked by schedulers_in_run
        span = end - begin
        name = f"{where}[{index}] ({scheduler.get('type')})"
        unit = (f" (begin={scheduler.get('begin', 0)}, end={scheduler['end']} epochs of {epoch_length} iterations)"
                if converted else '')
        if span < 1:
            raise ValueError(f'{name} spans {span} iterations{unit}: make it span at least one')
        if span == 1 and scheduler.get('type') in LINEAR_TYPES:
            raise ValueError(f'{name} spans one iteration{unit}: mmengine\'s linear schedulers then never leave '
                             'start_factor (a warmup would hold the learning rate there for the whole run); make it '
                             'span at least 2 iterations')
