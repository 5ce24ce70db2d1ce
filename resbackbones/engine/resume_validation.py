"""The validation a resumed run owes.

mmengine writes a checkpoint when an epoch (or a checkpointed iteration) ends and validates after it. A run resumed
from that checkpoint starts with the next epoch, so the validation of the checkpoint's own epoch ran only if the
killed run got through it: a kill during it lost that epoch's score and its chance to be the best checkpoint, and a
kill during the last epoch's validation left the finished model never validated. The checkpoint's state (best
score, schedulers that step on the metric, the random number generators) is the one from before that validation,
so running it first makes the resumed run go on as the uninterrupted one did.
"""
from __future__ import annotations

from mmengine.runner.base_loop import BaseLoop
from mmengine.runner.loops import IterBasedTrainLoop


def owed_validation(loop: BaseLoop, has_val_loop: bool) -> str | None:
    """'epoch N' / 'iteration N' when ``loop``, just resumed, stands where its own rule validates; else None."""
    if not has_val_loop or not hasattr(loop, 'val_interval'):
        return None
    by_iter = isinstance(loop, IterBasedTrainLoop)
    step, end = (loop.iter, loop.max_iters) if by_iter else (loop.epoch, loop.max_epochs)
    if step == 0:
        return None
    if hasattr(loop, '_decide_current_val_interval'):  # dynamic_intervals: the interval in force at this step
        loop._decide_current_val_interval()
    if step >= loop.val_begin and (step % loop.val_interval == 0 or step == end):
        return f'{"iteration" if by_iter else "epoch"} {step}'
    return None
