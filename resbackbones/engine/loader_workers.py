"""Stop a finished loop's dataloader worker processes when the run ends, not when the garbage collector gets there.

A runner and its loops form reference cycles, so a loader iterator left behind by a run (persistent workers, or the
iterator mmengine's iteration-based loop keeps) is freed by the cycle collector, which first fires the weak-reference
finalisers of its queues: their feeder threads stop, the iterator's shutdown message never reaches the workers, and
each worker's ``join`` waits out torch's 5 s timeout. A process that runs several runners (the demos' seed grids,
``tools/test.py`` after ``tools/train.py`` in one interpreter) lost 10 s per run with two workers.
"""
from __future__ import annotations

from typing import Any


def stop_loader_workers(*loops: Any) -> None:
    """Shut down the worker processes of each built loop's dataloader; loops not built yet (dicts) are skipped.

    A loader with ``persistent_workers`` forgets its iterator, so a later pass (``runner.val()`` after training)
    starts fresh workers instead of reusing stopped ones.
    """
    for loop in loops:
        kept = getattr(getattr(loop, 'dataloader_iterator', None), '_iterator', None)  # iteration-based loops
        # MultiLoaderEpochBasedTrainLoop's other loaders kept their persistent workers
        loaders = [getattr(loop, 'dataloader', None), *getattr(loop, 'multi_loaders', ())]
        for iterator in [getattr(loader, '_iterator', None) for loader in loaders] + [kept]:
            if hasattr(iterator, '_shutdown_workers'):  # torch's multi-process iterator; idempotent
                iterator._shutdown_workers()
        for loader in loaders:
            if getattr(loader, '_iterator', None) is not None:
                loader._iterator = None
