"""What a run resumed from another folder's checkpoint must forget: the files that folder's run kept.

mmengine's CheckpointHook stores in the message hub which epochs' checkpoints it keeps (``keep_ckpt_ids``, by number)
and where its best checkpoint is (``best_ckpt``, a path). Resumed into another work dir, the hook joined those
numbers with the new folder and deleted whatever file there had the name (another run's ``epoch_1.pth``), and on a
new best deleted the original run's best checkpoint in the original folder. A run resumed from elsewhere therefore
starts its own list of kept files; the best score stays, so "best" still means best of the whole training.
"""
from __future__ import annotations

import os

from mmengine.hooks import CheckpointHook
from mmengine.logging import MessageHub

KEPT_FILE_KEYS = ('keep_ckpt_ids', 'best_ckpt')


def checkpoint_folders(hooks, work_dir: str) -> set[str]:
    """The folders this run's CheckpointHooks write to, resolved (a hook's ``out_dir`` gets the work dir's name
    appended, as mmengine does in ``before_train``)."""
    folders = set()
    for hook in hooks:
        if isinstance(hook, CheckpointHook):
            out_dir = hook.out_dir
            if out_dir is not None and os.path.realpath(out_dir) != os.path.realpath(work_dir):
                out_dir = os.path.join(out_dir, os.path.basename(work_dir.rstrip(os.sep)))
            folders.add(os.path.realpath(out_dir or work_dir))
    return folders


def forget_foreign_files(message_hub: MessageHub, checkpoint: str, folders: set[str]) -> list[str]:
    """Drop the kept-file records of a checkpoint that was written outside ``folders``; returns the dropped keys
    (empty when the checkpoint is one of this run's own or nothing was recorded)."""
    if os.path.realpath(os.path.dirname(os.path.abspath(checkpoint))) in folders:
        return []
    info = message_hub.runtime_info
    dropped = [key for key in list(info) if key in KEPT_FILE_KEYS or key.startswith('best_ckpt_')]
    for key in dropped:
        info.pop(key)
    return dropped
