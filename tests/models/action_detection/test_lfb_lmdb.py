"""LFB(device='lmdb'): the bank files turned into an lmdb database (mmaction2's layout) and read per video."""
import copy
import glob
import io
import pickle

import lmdb
import pytest
import torch

from resbackbones.models.action_detection import LFB
from resbackbones.models.action_detection.lfb_lmdb import LmdbBank, build_lmdb_bank

C = 4


def _bank(videos, seed=0):
    """A random bank as LFBInferHead writes it: {video: {second: [(C,) float16 tensors]}}."""
    gen = torch.Generator().manual_seed(seed)
    return {v: {s: list(torch.randn(n, C, generator=gen).half().unbind()) for s, n in ((900, 3), (901, 1), (903, 5))}
            for v in videos}


def _lfb(folder, device, **kwargs):
    return LFB(str(folder), max_num_sampled_feat=2, window_size=5, lfb_channels=C, dataset_modes=('train', 'val'),
               device=device, **kwargs)


def test_lmdb_bank_draws_what_the_in_memory_bank_draws(tmp_path):
    torch.save(_bank(['v1', 'v2'], seed=0), tmp_path / 'lfb_train.pkl')
    torch.save(_bank(['v3'], seed=1), tmp_path / 'lfb_val.pkl')
    in_ram, on_disk = _lfb(tmp_path, 'cpu'), _lfb(tmp_path, 'lmdb')
    for key in ('v1,0900', 'v2,0902', 'v3,0903', 'v3,0950'):
        torch.manual_seed(7)
        expected = in_ram[key]
        torch.manual_seed(7)
        assert torch.equal(on_disk[key], expected)
    assert isinstance(on_disk.load(), LmdbBank) and len(on_disk) == 3
    assert (tmp_path / 'lmdb' / 'data.mdb').is_file() and glob.glob(str(tmp_path / '.lmdb.partial-*')) == []
    assert on_disk['v1,0901'].abs().sum() > 0  # the features are really there, not the zero padding only


def test_banks_of_one_database_share_it_within_a_process(tmp_path):
    """lmdb refuses a second handle on a database in one process: a second bank or a deepcopy (EMA) must work."""
    torch.save(_bank(['v1']), tmp_path / 'lfb_train.pkl')
    torch.save({}, tmp_path / 'lfb_val.pkl')
    first = _lfb(tmp_path, 'lmdb')
    first.load()
    for other in (_lfb(tmp_path, 'lmdb', construct_lmdb=False), copy.deepcopy(first)):
        torch.manual_seed(3)
        expected = first['v1,0901']
        torch.manual_seed(3)
        assert torch.equal(other['v1,0901'], expected)


def test_a_database_built_as_mmaction2_builds_it_is_read(tmp_path):
    """mmaction2 commits one record per video holding the infer head's lists; its own reader cannot index them."""
    bank = _bank(['a', 'b'])
    env = lmdb.open(str(tmp_path / 'lmdb'), map_size=1 << 20)
    for video, seconds in bank.items():
        txn = env.begin(write=True)
        buffer = io.BytesIO()
        torch.save(seconds, buffer)
        txn.put(video.encode(), buffer.getvalue())
        txn.commit()
    env.close()
    lfb = _lfb(tmp_path, 'lmdb', construct_lmdb=False)
    assert torch.equal(lfb.load()['b'][903], torch.stack(bank['b'][903]))
    assert lfb['a,0901'].shape == (10, C) and 'c' not in lfb.load()


def test_rebuilding_replaces_the_database_and_a_failed_build_keeps_it(tmp_path):
    build_lmdb_bank({'old': {900: torch.ones(1, C)}}, str(tmp_path / 'lmdb'), 1 << 20)
    build_lmdb_bank({'new': {900: torch.ones(2, C)}}, str(tmp_path / 'lmdb'), 1 << 20)
    assert 'old' not in LmdbBank(str(tmp_path / 'lmdb'))  # mmaction2 would keep the stale record
    with pytest.raises(ValueError, match='does not fit in lmdb_map_size=4096 bytes'):
        build_lmdb_bank({'big': {900: torch.randn(4096, C)}}, str(tmp_path / 'lmdb'), 4096)
    assert list(LmdbBank(str(tmp_path / 'lmdb'))['new']) == [900]
    assert sorted(p.name for p in tmp_path.iterdir()) == ['lmdb']  # no staging folder left behind


def _foreign_record(folder):
    env = lmdb.open(str(folder / 'lmdb'), map_size=1 << 20)
    with env.begin(write=True) as txn:
        txn.put(b'v', pickle.dumps({900: object()}))
    env.close()
    return LmdbBank(str(folder / 'lmdb'))['v']


def _without_lmdb(folder, monkeypatch):
    monkeypatch.setitem(__import__('sys').modules, 'lmdb', None)
    return _lfb(folder, 'lmdb')


@pytest.mark.parametrize('make, error, message', [
    (lambda p, mp: _lfb(p, 'lmdb', construct_lmdb=False).load(), FileNotFoundError, 'lmdb bank .*lmdb does not exist'),
    (lambda p, mp: _lfb(p, 'lmdb').load(), FileNotFoundError, 'lfb_train.pkl does not exist'),
    (lambda p, mp: _lfb(p, 'lmdb', lmdb_map_size=0), ValueError, 'lmdb_map_size must be a positive number'),
    (lambda p, mp: _foreign_record(p), ValueError, "lmdb bank .*lmdb, video 'v': cannot read the record"),
    (_without_lmdb, ImportError, r"needs the lmdb package, which is not installed: pip install 'resbackbones\[lfb\]'"),
])
def test_bad_input_is_named(tmp_path, monkeypatch, make, error, message):
    with pytest.raises(error, match=message):
        make(tmp_path, monkeypatch)
