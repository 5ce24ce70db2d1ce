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

    def converts_pretrained(self) -> bool:
        """Whether a 'Pretrained' entry of this model's own ``init_cfg`` loads through ``load_pretrained`` (other
        libraries' formats converted, ``strict``/``prefix``/``source`` honoured): where it covers the model, a
        backbone with a ``head.fc`` (classifiers, recognizers). Others keep mmengine's key-for-key loading."""
        from ..weights.load import covers_whole
        return covers_whole(self)

    def init_weights(self) -> None:
        """Children initialise themselves (and a list init_cfg's other entries apply), as in mmengine; a
        'Pretrained' entry then loads through our converters where ``converts_pretrained``: mmengine's own loader
        matched a torchvision file's keys against ``backbone.*`` and loaded none, with a warning."""
        from ..weights.init_cfg import load_pretrained_cfg, split_init_cfg
        configured = self.init_cfg
        pretrained, others = split_init_cfg(configured)
        if pretrained is None or not self.converts_pretrained():
            super().init_weights()
            return
        self.init_cfg = others or None
        try:
            super().init_weights()
        finally:
            self.init_cfg = configured
        load_pretrained_cfg(self, pretrained)
