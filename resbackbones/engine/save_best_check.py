"""A ``save_best`` key that the evaluator does not report, named before CheckpointHook fails on it.

mmengine's CheckpointHook looks the key up in the first validation's metrics and stops there with a bare KeyError,
an epoch into training; this check runs on the same metrics just before the hooks do and says which key is wrong
and which the evaluator gives.
"""
from __future__ import annotations

from typing import Iterable

from mmengine.hooks import CheckpointHook


def check_save_best(hooks: Iterable, metrics: dict | None) -> None:
    """ValueError when a CheckpointHook in ``hooks`` keeps the best checkpoint by a key missing from ``metrics``
    (one validation's results); 'auto' takes the first key and is always found."""
    if not metrics:
        return
    for hook in hooks:
        wanted = getattr(hook, 'key_indicators', None) if isinstance(hook, CheckpointHook) else None
        missing = [key for key in wanted or () if key != 'auto' and key not in metrics]
        if missing:
            raise ValueError(f'default_hooks.checkpoint.save_best: {missing[0]!r} is not a metric of the validation, '
                             f'which gives {sorted(metrics)}; name one of them (or save_best=\'auto\')')
