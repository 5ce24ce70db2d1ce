"""A transform's ``seed``: the same sequence in the main process for the same seed, but its own draws in every
data-loader worker and every epoch (a generator made at build time was copied into each worker in one state)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, Dataset

from resbackbones.registry import TRANSFORMS

TRANSFORM_CFGS = [
    dict(type='RandomPatch', size=4, seed=0),
    dict(type='RandomPatch3D', size=2, seed=0),
    dict(type='RandomFlip3D', seed=0),
]


class Constant(Dataset):
    """Eight copies of one image (2D) or volume (3D), each through ``transform``; returns a fingerprint of the
    result (the crop's position, or which axes were flipped)."""

    def __init__(self, transform, volume: bool):
        self.transform, self.volume = transform, volume

    def __len__(self):
        return 8

    def __getitem__(self, index):
        if self.volume:
            data = np.arange(6 * 6 * 6, dtype=np.float32).reshape(1, 6, 6, 6)
            out = self.transform(dict(img=data))['img']
        else:
            data = np.arange(16 * 16, dtype=np.uint8).reshape(16, 16, 1)
            out = self.transform(dict(img=data))['img']
        return float(np.asarray(out).ravel()[0]) + 1000 * float(np.asarray(out).ravel()[-1])


def draws(cfg, workers: int, epochs: int = 2) -> list[list[float]]:
    dataset = Constant(TRANSFORMS.build(cfg), volume='3D' in cfg['type'])
    torch.manual_seed(0)
    loader = DataLoader(dataset, batch_size=1, num_workers=workers)
    return [[float(x) for x in loader] for _ in range(epochs)]


@pytest.mark.parametrize('cfg', TRANSFORM_CFGS)
def test_workers_and_epochs_draw_their_own_and_the_run_repeats(cfg):
    first = draws(cfg, workers=2)
    # worker 0 takes samples 0, 2, 4 ...; worker 1 samples 1, 3, 5 ...: each pair was equal
    assert first[0][0::2] != first[0][1::2]
    assert first[0] != first[1]  # non-persistent workers are copied afresh each epoch: the epoch repeated
    assert draws(cfg, workers=2) == first  # the same torch seed gives the same draws


@pytest.mark.parametrize('cfg', TRANSFORM_CFGS)
def test_the_main_process_follows_the_seed_alone(cfg):
    assert draws(cfg, workers=0, epochs=1) == draws(cfg, workers=0, epochs=1)
    other = draws(dict(cfg, seed=1), workers=0, epochs=1)
    assert other != draws(cfg, workers=0, epochs=1)


@pytest.mark.parametrize('workers', [0, 2])
def test_distributed_ranks_draw_their_own(monkeypatch, workers):
    """Worker seeds are shared over DDP ranks (and the main process has the seed alone): every rank cropped its
    k-th sample where rank 0 did. Rank 0 keeps its draws, so one-process runs are unchanged."""
    cfg = TRANSFORM_CFGS[0]
    by_rank = {}
    for rank in ('0', '1', '2'):
        monkeypatch.setenv('RANK', rank)
        by_rank[rank] = draws(cfg, workers=workers, epochs=1)
    monkeypatch.delenv('RANK')
    assert by_rank['0'] == draws(cfg, workers=workers, epochs=1)
    assert by_rank['1'] != by_rank['0'] and by_rank['2'] != by_rank['1'] and by_rank['2'] != by_rank['0']
