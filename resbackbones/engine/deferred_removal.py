"""CheckpointHook's removals of old checkpoints, carried out only once the next checkpoint is written.

mmengine's CheckpointHook removes the previous best checkpoint, and past ``max_keep_ckpts`` the oldest kept one,
*before* it writes the new one: a save that failed (disk full) or a kill in between left no best checkpoint at
all, or one checkpoint fewer to resume from. SafeRunner gives each CheckpointHook on a local disk a file backend
whose ``remove``/``rmtree`` are queued, and carries them out after its atomic write of the next checkpoint.
"""
from __future__ import annotations

import os
from typing import Iterable

from mmengine.fileio import LocalBackend
from mmengine.hooks import CheckpointHook, Hook


class DeferredRemovals:
    """``backend`` with its ``remove`` and ``rmtree`` queued until :meth:`carry_out`; all else goes to it."""

    def __init__(self, backend: LocalBackend):
        self.backend = backend
        self.queued: list[tuple[str, str]] = []  # (method, path)

    def remove(self, filepath: str) -> None:
        self.queued.append(('remove', str(filepath)))

    def rmtree(self, dir_path: str) -> None:
        self.queued.append(('rmtree', str(dir_path)))

    def __getattr__(self, name: str):
        return getattr(self.backend, name)

    def carry_out(self, written: str) -> None:
        """Remove what was queued, except ``written`` (the file just saved, when it took a removed file's name)."""
        queued, self.queued = self.queued, []
        for method, path in queued:
            if os.path.abspath(path) != os.path.abspath(written) and os.path.lexists(path):
                getattr(self.backend, method)(path)


def defer_removals(hooks: Iterable[Hook]) -> None:
    """Give every CheckpointHook writing to a local disk a :class:`DeferredRemovals` backend (after its
    ``before_train``, which sets ``file_backend``)."""
    for hook in hooks:
        if isinstance(hook, CheckpointHook) and isinstance(getattr(hook, 'file_backend', None), LocalBackend):
            hook.file_backend = DeferredRemovals(hook.file_backend)


def carry_out_removals(hooks: Iterable[Hook], written: str) -> None:
    """After ``written`` has been saved whole: the removals the CheckpointHooks asked for before saving it."""
    for hook in hooks:
        backend = getattr(hook, 'file_backend', None)
        if isinstance(backend, DeferredRemovals):
            backend.carry_out(written)
