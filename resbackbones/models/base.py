"""The task-model base: one place that turns mmengine's ``mode`` argument into a method call.

mmengine calls ``model(inputs, data_samples, mode)`` with mode 'tensor' (raw outputs), 'loss' (a dict of losses)
or 'predict' (one result per sample). Every task model (classifier, recognizers, U-Net, detectors) implements the
three as methods, as mmdet's ``BaseDetector`` does, and this base dispatches and names a wrong mode.
"""
from __future__ import annotations

import torch
from mmengine.model import BaseModel

MODES = ('tensor', 'loss', 'predict')


class TaskModel(BaseModel):
    """mmengine ``BaseModel`` whose forward dispatches ``mode`` to ``tensor``, ``loss`` or ``predict``.

    ``loss`` must be given ``data_samples``; a missing one is named here rather than failing deep in a head.
    """

    def forward(self, inputs: torch.Tensor, data_samples=None, mode: str = 'tensor'):
        if mode == 'tensor':
            return self.tensor(inputs)
        if mode == 'loss':
            if data_samples is None:
                raise ValueError(f"{type(self).__name__}: mode='loss' needs data_samples with the ground truth")
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        raise ValueError(f'{type(self).__name__}: mode must be one of {MODES}; got {mode!r}')

    def tensor(self, inputs: torch.Tensor):
        """Raw network outputs (logits, embeddings or features), no post-processing."""
        raise NotImplementedError

    def loss(self, inputs: torch.Tensor, data_samples) -> dict[str, torch.Tensor]:
        """A dict of named losses for the batch."""
        raise NotImplementedError

    def predict(self, inputs: torch.Tensor, data_samples=None) -> list:
        """One prediction per sample, in the form the task's evaluator reads."""
        raise NotImplementedError
