"""Data loader workers built by SafeRunner draw anew every epoch, follow the run's seed, and differ per rank."""
from __future__ import annotations

import random

import numpy as np
import torch

from resbackbones.engine.runner import SafeRunner
from resbackbones.engine.worker_seed import seed_worker


class Draws(torch.utils.data.Dataset):
    """Each item is one draw from each of torch's, numpy's and Python's generators."""

    def __len__(self):
        return 4

    def __getitem__(self, idx):
        return torch.tensor([float(torch.randint(10**6, ())), float(np.random.randint(10**6)),
                             float(random.randint(0, 10**6))])


def _epochs(extra: dict | None = None, count: int = 2) -> list[torch.Tensor]:
    loader = SafeRunner.build_dataloader(dict(dataset=Draws(), batch_size=4, num_workers=2, persistent_workers=False,
                                              sampler=dict(type='DefaultSampler', shuffle=False), **(extra or {})),
                                         seed=0)
    return [torch.cat([torch.stack(batch) for batch in loader]) for _ in range(count)]  # mmengine collates to lists


def _fixed_seed(worker_id: int) -> None:
    torch.manual_seed(123)
    np.random.seed(123)
    random.seed(123)


def test_non_persistent_workers_draw_anew_each_epoch_and_follow_the_seed():
    torch.manual_seed(0)
    first, second = _epochs()
    assert (first != second).all()  # mmengine's default worker_init_fn gave two equal epochs (every column)
    assert len({tuple(row.tolist()) for row in first}) == 4  # the two workers draw differently too
    torch.manual_seed(0)
    again = _epochs()
    assert torch.equal(again[0], first) and torch.equal(again[1], second)


def test_a_configured_worker_init_fn_is_kept():
    first, second = _epochs(dict(worker_init_fn=dict(type=_fixed_seed)))
    assert torch.equal(first, second)


def test_ranks_draw_differently():
    def draws(rank: int) -> list[float]:
        torch.manual_seed(7)  # PyTorch shares a worker's base seed over DDP ranks
        seed_worker(0, rank=rank)
        return [float(torch.rand(())), float(np.random.rand()), random.random()]

    assert draws(0) == draws(0)
    assert all(a != b for a, b in zip(draws(0), draws(1)))


def test_mmengines_disable_subprocess_warning_is_taken():
    # passed on to torch's DataLoader (an unexpected keyword) since SafeRunner supplies worker_init_fn itself
    assert len(_epochs(dict(disable_subprocess_warning=True), count=1)[0]) == 4


def test_a_worker_told_to_be_quiet_ignores_warnings_the_first_does_not():
    import warnings
    with warnings.catch_warnings():
        seed_worker(0, quiet=True)
        assert not any(f[0] == 'ignore' and f[2] is Warning for f in warnings.filters[:1])
        seed_worker(1, quiet=True)
        assert warnings.filters[0][0] == 'ignore'
