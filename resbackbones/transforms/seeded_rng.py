"""The random generator of a transform given ``seed``: reproducible, yet its own in every data-loader worker.

A ``np.random.RandomState(seed)`` made when the transform is built is copied into each worker in the same state:
every worker drew the same crops and flips, and non-persistent workers, copied afresh each epoch, repeated them
every epoch. Here the generator is made in the process that draws from it: in the main process from ``seed``
alone (as before), in a worker from ``seed`` and the worker's torch seed, which differs per worker and per epoch
and follows the run's seed. On distributed ranks other than 0 (``RANK``, which torchrun and mmengine's Slurm
launcher set) the rank is mixed in as well: the worker seeds are shared over ranks, so every rank drew the same
crops for its k-th sample (rank 0, and one-process runs, draw as before).
"""
from __future__ import annotations

import os

import numpy as np
import torch


class SeededRandomState:
    """``get()`` -> numpy's global state when ``seed`` is None, else this process's RandomState for ``seed``."""

    def __init__(self, seed: int | None):
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
            raise ValueError(f'seed must be a non-negative integer or None; got {seed!r}')
        self.seed = seed
        self._made_in: int | None = None
        self._state: np.random.RandomState | None = None

    def get(self) -> np.random.RandomState:
        if self.seed is None:
            return np.random  # type: ignore[return-value]  (the module has RandomState's methods)
        if self._made_in != os.getpid():
            worker = torch.utils.data.get_worker_info()
            rank = int(os.environ.get('RANK', '0') or 0)
            entropy = [self.seed] + ([] if worker is None else [worker.seed % 2**63]) + ([rank] if rank else [])
            seed = self.seed if len(entropy) == 1 else int(np.random.SeedSequence(entropy).generate_state(1)[0])
            self._state, self._made_in = np.random.RandomState(seed), os.getpid()
        return self._state
