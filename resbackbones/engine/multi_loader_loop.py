"""mmaction2's ``MultiLoaderEpochBasedTrainLoop``: each training step takes one batch from every data source.

OmniSource (``RecognizerOmni``) trains on a video loader (``train_dataloader``) and image loaders
(``train_cfg.other_loaders``) together: a step is the tuple (video batch, image batch, ...) and the model sums
their losses. An epoch is as long as the main loader, as mmengine's schedules count it (``max_iters``,
``convert_to_iter_based``); an other loader that would run out sooner is refused when the loop is built, naming
both lengths, instead of silently cutting every epoch short as a plain ``zip`` would.
"""
from __future__ import annotations

import gc
from typing import Sequence

from mmengine.runner import EpochBasedTrainLoop
from torch.utils.data import DataLoader

from ..registry import LOOPS
from .loader_epoch import set_loader_epoch


@LOOPS.register_module()
class MultiLoaderEpochBasedTrainLoop(EpochBasedTrainLoop):
    """``EpochBasedTrainLoop`` over ``dataloader`` and ``other_loaders`` in lockstep.

    Args:
        runner, dataloader, max_epochs, val_begin, val_interval: as mmengine's EpochBasedTrainLoop.
        other_loaders: data loaders or their configs (built like ``train_dataloader``, with the runner's seed);
            each must give at least as many batches per epoch as ``dataloader``.
    """

    def __init__(self, runner, dataloader: DataLoader | dict, other_loaders: Sequence[DataLoader | dict],
                 max_epochs: int, val_begin: int = 1, val_interval: int = 1) -> None:
        super().__init__(runner, dataloader, max_epochs, val_begin, val_interval)
        if isinstance(other_loaders, (dict, DataLoader)) or not isinstance(other_loaders, Sequence):
            raise ValueError('MultiLoaderEpochBasedTrainLoop: other_loaders must be a list of data loaders or their '
                             f'configs; got {type(other_loaders).__name__}')
        self.multi_loaders = [self.dataloader]
        for index, loader in enumerate(other_loaders):
            if isinstance(loader, dict):
                loader = runner.build_dataloader(loader, seed=runner.seed)
            if len(loader) < len(self.dataloader):
                raise ValueError(f'MultiLoaderEpochBasedTrainLoop: train_cfg.other_loaders[{index}] gives '
                                 f'{len(loader)} batches per epoch, train_dataloader {len(self.dataloader)}; an '
                                 'epoch would stop early and the schedules (counted on train_dataloader) would not '
                                 'end where they say: give it a smaller batch_size or more data')
            self.multi_loaders.append(loader)

    def run_epoch(self) -> None:
        """One epoch: ``len(train_dataloader)`` steps, each on a tuple of one batch per loader."""
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        gc.collect()  # as mmaction2: the other loaders' previous iterators (and their workers) go first
        for loader in self.multi_loaders:
            set_loader_epoch(loader, self._epoch)
        for idx, data_batch in enumerate(zip(*self.multi_loaders)):
            self.run_iter(idx, data_batch)
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1
