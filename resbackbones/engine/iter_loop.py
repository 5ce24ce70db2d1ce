"""mmengine's ``IterBasedTrainLoop`` without its 2-second pause at each epoch end when no worker restarts.

With an epoch sampler (``DefaultSampler``), mmengine's loop restarts the dataloader at every epoch end and sleeps 2 s
first, a workaround for a deadlock seen while worker processes shut down and start again (mmcv PR 306). A loader
without workers, or with ``persistent_workers=True``, starts and stops no process there, yet paid the pause: on a
small set that is seconds per few iterations (the video demo: 18-30 s a run; a 4-clip test set: 2 s every 2 steps).
This loop skips the pause in those two cases only; the samples, their order (``set_epoch``) and the results are
mmengine's. Registered under mmengine's name, so configs that say ``type='IterBasedTrainLoop'`` get it unchanged.
"""
from typing import Iterator, Optional, Sequence

from mmengine.runner.loops import IterBasedTrainLoop as MMEngineIterBasedTrainLoop
from mmengine.runner.loops import _InfiniteDataloaderIterator
from torch.utils.data import DataLoader

from ..registry import LOOPS
from .loader_epoch import set_loader_epoch


def restarts_workers(dataloader: DataLoader) -> bool:
    """Whether starting a new epoch of ``dataloader`` shuts worker processes down and starts new ones."""
    return getattr(dataloader, 'num_workers', 0) > 0 and not getattr(dataloader, 'persistent_workers', False)


class EpochRestartingIterator(_InfiniteDataloaderIterator):
    """mmengine's endless iterator over an epoch sampler; pauses at an epoch end only when workers restart.

    ``iterator``: an iterator of ``dataloader`` already started (mmengine's loop starts one), taken over so that no
    batch is drawn twice or lost (an ``InfiniteSampler``'s index stream is shared by all iterators of a loader).
    """

    def __init__(self, dataloader: DataLoader, iterator: Optional[Iterator] = None) -> None:
        self._dataloader = dataloader
        self._iterator = iter(dataloader) if iterator is None else iterator
        self._epoch = 0

    def __next__(self) -> Sequence[dict]:
        if restarts_workers(self._dataloader):
            return super().__next__()
        try:
            return next(self._iterator)
        except StopIteration:
            self._epoch += 1
            set_loader_epoch(self._dataloader, self._epoch)
            self._iterator = iter(self._dataloader)
            return next(self._iterator)


@LOOPS.register_module(name='IterBasedTrainLoop')
class IterBasedTrainLoop(MMEngineIterBasedTrainLoop):
    """mmengine's iteration-based training loop over :class:`EpochRestartingIterator`."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.dataloader_iterator = EpochRestartingIterator(self.dataloader, self.dataloader_iterator._iterator)
