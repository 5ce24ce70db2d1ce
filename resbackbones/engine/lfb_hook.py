"""The hook that writes long-term feature banks when a test or validation pass has seen its last batch.

mmaction2's ``LFBInferHead`` writes its bank in ``__del__``, at whatever moment the garbage collector frees the
model (at interpreter exit, or never while a reference lives). This hook instead asks every module of the model
that has a ``write_bank()`` method (``LFBInferHead``) to write what it recorded during the epoch. ``SafeRunner``
registers it by itself when the model has such a module; add it to ``custom_hooks`` only with a plain mmengine
Runner.
"""
from __future__ import annotations

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from torch import nn

from ..registry import HOOKS


def bank_writers(model: nn.Module) -> list[nn.Module]:
    """The modules of ``model`` (unwrapped from DDP) with a callable ``write_bank``."""
    model = model.module if is_model_wrapper(model) else model
    return [m for m in model.modules() if callable(getattr(m, 'write_bank', None))]


@HOOKS.register_module()
class LFBWriteHook(Hook):
    """After the last test / validation iteration, every bank writer of the model writes its bank (on every rank):
    before the epoch's metric runs, so that a metric that fails (a mistyped label file) does not lose the
    inference pass that recorded the features (hours on AVA's training set). An epoch that ends without that
    iteration (an empty loader) writes when it ends."""

    priority = 'LOW'

    def __init__(self):
        self._written = False

    def _write(self, runner) -> None:
        for module in bank_writers(runner.model):
            module.write_bank()
        self._written = True

    def _after_iter(self, runner, loop, batch_idx: int) -> None:
        if batch_idx + 1 == len(loop.dataloader):
            self._write(runner)

    def before_test_epoch(self, runner) -> None:
        self._written = False

    def before_val_epoch(self, runner) -> None:
        self._written = False

    def after_test_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        self._after_iter(runner, runner.test_loop, batch_idx)

    def after_val_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        self._after_iter(runner, runner.val_loop, batch_idx)

    def after_test_epoch(self, runner, metrics: dict | None = None) -> None:
        if not self._written:
            self._write(runner)

    def after_val_epoch(self, runner, metrics: dict | None = None) -> None:
        if not self._written:
            self._write(runner)
