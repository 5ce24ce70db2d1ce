"""A progress bar with ETA for validation and test epochs (mmengine logs them only every few iterations)."""
from __future__ import annotations

import sys

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.runner import Runner
from mmengine.utils import ProgressBar

from ..registry import HOOKS


@HOOKS.register_module()
class EvalProgressHook(Hook):
    """Draw mmengine's ProgressBar (done/total, rate, elapsed, ETA) over each val/test epoch, on rank 0.

    Args:
        only_tty: draw only when stdout is a terminal (keeps CI logs free of carriage returns).
    """

    priority = 'NORMAL'  # before LoggerHook (BELOW_NORMAL), so the bar ends before the metrics line

    def __init__(self, only_tty: bool = False):
        self.only_tty = only_tty
        self._bar: ProgressBar | None = None

    def _start(self, total: int) -> None:
        if is_main_process() and total > 0 and (sys.stdout.isatty() or not self.only_tty):
            self._bar = ProgressBar(total, file=sys.stdout)

    def _step(self) -> None:
        if self._bar is not None:
            self._bar.update()

    def _finish(self) -> None:
        if self._bar is not None:
            self._bar.file.write('\n')
            self._bar.file.flush()
            self._bar = None

    def before_val_epoch(self, runner: Runner) -> None:
        self._start(len(runner.val_dataloader))

    def after_val_iter(self, runner: Runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        self._step()

    def after_val_epoch(self, runner: Runner, metrics=None) -> None:
        self._finish()

    def before_test_epoch(self, runner: Runner) -> None:
        self._start(len(runner.test_dataloader))

    def after_test_iter(self, runner: Runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        self._step()

    def after_test_epoch(self, runner: Runner, metrics=None) -> None:
        self._finish()
