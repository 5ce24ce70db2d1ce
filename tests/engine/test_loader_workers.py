"""Dataloader worker processes stop when a loop is done, and a later pass starts new ones."""
from types import SimpleNamespace

import pytest
import torch
from torch.utils.data import DataLoader

from resbackbones.engine.iter_loop import EpochRestartingIterator
from resbackbones.engine.loader_workers import stop_loader_workers


def loader(persistent: bool) -> DataLoader:
    return DataLoader(torch.arange(6), batch_size=2, num_workers=1, persistent_workers=persistent)


def workers(iterator) -> list:
    return list(iterator._workers)


def test_persistent_workers_stop_and_the_next_pass_starts_fresh_ones():
    data = loader(persistent=True)
    assert [b.tolist() for b in data] == [[0, 1], [2, 3], [4, 5]]
    started = workers(data._iterator)
    assert all(w.is_alive() for w in started)
    stop_loader_workers(SimpleNamespace(dataloader=data))
    assert data._iterator is None and not any(w.is_alive() for w in started)
    assert [b.tolist() for b in data] == [[0, 1], [2, 3], [4, 5]]  # new workers, not the stopped ones
    stop_loader_workers(SimpleNamespace(dataloader=data))


def test_the_iterator_an_iteration_based_loop_keeps_is_stopped_mid_epoch():
    data = loader(persistent=False)
    kept = EpochRestartingIterator(data)
    assert next(kept).tolist() == [0, 1]
    started = workers(kept._iterator)
    stop_loader_workers(SimpleNamespace(dataloader=data, dataloader_iterator=kept))
    assert started and not any(w.is_alive() for w in started)


@pytest.mark.parametrize('loop', [{'type': 'ValLoop'}, None, SimpleNamespace(dataloader={'batch_size': 2})])
def test_loops_not_built_are_skipped(loop):
    stop_loader_workers(loop)  # a dict loop, no loop, a loop whose loader is still a config: nothing to stop


def test_the_other_loaders_of_a_multi_loader_loop_are_stopped_too():
    # MultiLoaderEpochBasedTrainLoop's multi_loaders[1:] kept their persistent workers (5 s per worker at exit)
    main, other = loader(persistent=True), loader(persistent=True)
    list(main), list(other)
    started = workers(other._iterator)
    stop_loader_workers(SimpleNamespace(dataloader=main, multi_loaders=[main, other]))
    assert other._iterator is None and not any(w.is_alive() for w in started)
