"""Seeding data loader workers so that random augmentations follow the run's seed and change every epoch.

mmengine's default ``worker_init_fn`` seeds each worker's torch, numpy and random generators with
``seed + worker_id (+ rank)``: the same numbers every time the workers start, i.e. every epoch unless
``persistent_workers=True``, so such workers replayed the first epoch's random draws (crops, flips, albumentations,
composed identities) in every later epoch. PyTorch itself seeds worker ``i`` with ``base + i``, where ``base`` is
drawn from the main process's generator each time the workers start: it follows the run's seed and changes per
epoch. ``seed_worker`` keeps that and only mixes in the rank, since PyTorch shares ``base`` over DDP ranks.
"""
from __future__ import annotations

import random
import warnings

import numpy as np
import torch


def seed_worker(worker_id: int, rank: int = 0, quiet: bool = False) -> None:
    """Seed this worker's torch, numpy and random generators from PyTorch's seed for it and the process rank.

    Args:
        worker_id: the worker's index (PyTorch passes it; already part of ``torch.initial_seed()``).
        rank: the distributed rank of the process that owns the loader.
        quiet: the loader's ``disable_subprocess_warning`` (mmengine's): workers other than the first ignore
            warnings, so that each is not printed once per worker.
    """
    if quiet and worker_id != 0:
        warnings.simplefilter('ignore')
    seed = int(np.random.SeedSequence([torch.initial_seed(), rank]).generate_state(1)[0])
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)
