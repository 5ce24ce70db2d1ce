"""Telling a data loader's sampler which epoch it is, so that it shuffles anew.

A loader built with ``sampler=`` holds it as ``loader.sampler``; one built with ``batch_sampler=`` holds torch's
default SequentialSampler there and the real one as ``loader.batch_sampler.sampler``. Looking at ``loader.sampler``
alone left the second kind in the same order every epoch (and an epoch cut short never reached its tail).
"""
from __future__ import annotations

from typing import Any


def set_loader_epoch(loader: Any, epoch: int) -> bool:
    """Call ``set_epoch(epoch)`` on the sampler that orders ``loader``; False when it has none (a plain sampler)."""
    sampler = getattr(loader, 'sampler', None)
    if not hasattr(sampler, 'set_epoch'):
        sampler = getattr(getattr(loader, 'batch_sampler', None), 'sampler', None)
    if not hasattr(sampler, 'set_epoch'):
        return False
    sampler.set_epoch(epoch)
    return True
