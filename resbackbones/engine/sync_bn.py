"""SyncBN where it can work, plain BN (with one clear log line) where it cannot.

torch's SyncBatchNorm synchronises statistics only across processes of a CUDA process group: in a single process
there is nothing to sync with, and on CPU (gloo) its forward raises. In both cases the layers are converted to
BatchNorm (mmengine's ``revert_sync_batchnorm``, weights and statistics kept) and the reason is logged once.
"""
from __future__ import annotations

import logging

from mmengine.logging import print_log
from mmengine.model import revert_sync_batchnorm
from torch import nn


def count_sync_bn(model: nn.Module) -> int:
    """Number of SyncBatchNorm layers in ``model``."""
    return sum(isinstance(m, nn.SyncBatchNorm) for m in model.modules())


def sync_bn_fallback_reason(distributed: bool, device: str) -> str | None:
    """Why SyncBN cannot synchronise in this run, or None when it can (distributed on CUDA)."""
    if not distributed:
        return 'training runs in a single process (no process group to synchronise with)'
    if device != 'cuda':
        return f'SyncBatchNorm needs CUDA tensors and this distributed run is on {device!r} (gloo)'
    return None


def fallback_sync_bn(model: nn.Module, distributed: bool, device: str,
                     logger: logging.Logger | str = 'current') -> nn.Module:
    """``model`` with its SyncBatchNorm layers converted to BatchNorm when they cannot sync; logs the reason once.

    ``logger``: where the one line goes (mmengine's ``print_log`` target: a Logger, 'current' or 'silent').
    """
    count = count_sync_bn(model)
    reason = sync_bn_fallback_reason(distributed, device)
    if count == 0 or reason is None:
        return model
    print_log(f'SyncBN fallback: converted {count} SyncBatchNorm layer(s) to BatchNorm because {reason}; '
              f'batch statistics are computed per process.', logger=logger, level=logging.WARNING)
    return revert_sync_batchnorm(model)
