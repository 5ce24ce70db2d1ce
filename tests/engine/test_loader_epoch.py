"""A loader's sampler learns the epoch whether it was given as sampler= or inside batch_sampler=."""
import torch
from mmengine.dataset import DefaultSampler
from torch.utils.data import BatchSampler, DataLoader

from resbackbones.engine.loader_epoch import set_loader_epoch

DATA = torch.arange(8)


def orders(loader: DataLoader) -> list[list[int]]:
    seen = []
    for epoch in range(3):
        set_loader_epoch(loader, epoch)
        seen.append(torch.cat(list(loader)).tolist())
    return seen


def test_a_batch_samplers_sampler_reshuffles_every_epoch():
    # only loader.sampler was told: a batch_sampler's DefaultSampler gave one order every epoch
    batch = DataLoader(DATA, batch_sampler=BatchSampler(DefaultSampler(DATA, shuffle=True, seed=0), 2, False))
    plain = DataLoader(DATA, sampler=DefaultSampler(DATA, shuffle=True, seed=0), batch_size=2)
    assert orders(batch) == orders(plain)
    assert len({tuple(order) for order in orders(batch)}) == 3


def test_a_loader_without_an_epoch_sampler_is_left_alone():
    assert not set_loader_epoch(DataLoader(DATA, batch_size=2), 1)
