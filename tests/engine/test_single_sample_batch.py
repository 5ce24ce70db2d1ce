"""A last training batch of one sample: a warning before training, and BatchNorm's error made to name the loader."""
import sys
from pathlib import Path

import pytest
import torch
from mmengine.dataset import DefaultSampler, InfiniteSampler
from torch.utils.data import DataLoader

from resbackbones.engine.single_sample_batch import last_batch_size

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_runner import make_runner  # noqa: E402
from tiny import tiny_setup  # noqa: E402

DATA = list(range(16))


@pytest.mark.parametrize('batch_size, drop_last, sampler, expected', [
    (5, False, None, 1), (4, False, None, 4), (3, False, None, 1), (6, False, None, 4), (5, True, None, 5),
    (32, True, None, None), (5, False, 'infinite', None)])
def test_last_batch_size(batch_size, drop_last, sampler, expected):
    sampler = InfiniteSampler(DATA) if sampler == 'infinite' else DefaultSampler(DATA, shuffle=False)
    loader = DataLoader(DATA, batch_size=batch_size, drop_last=drop_last, sampler=sampler)
    assert last_batch_size(loader) == expected
    if expected is not None and sampler is not None and not isinstance(sampler, InfiniteSampler):
        assert len(list(loader)[-1]) == expected


def test_a_last_batch_of_one_is_warned_about_and_its_error_names_the_loader(tmp_path, capsys):
    config = tiny_setup(tmp_path, max_epochs=1)  # 16 training images; a width-8 ResNet-18 ends at 1x1 on 8x8
    runner = make_runner(config, tmp_path / 'work', 'five', train_dataloader=dict(batch_size=5))
    with pytest.raises(ValueError) as err:
        runner.train()
    expected = 'train_dataloader: the last batch of every epoch holds 1 sample (16 samples per process, batch_size=5)'
    assert str(err.value).startswith(expected) and 'train_dataloader.drop_last=True' in str(err.value)
    assert f'WARNING - {expected}: BatchNorm normalises it by its own statistics' in capsys.readouterr().out

    fixed = make_runner(config, tmp_path / 'dropped', 'dropped', train_dataloader=dict(batch_size=5, drop_last=True))
    fixed.train()
    assert fixed.iter == 3 and 'last batch' not in capsys.readouterr().out


def test_no_warning_when_every_batchnorm_is_frozen(tmp_path, capsys):
    config = tiny_setup(tmp_path, max_epochs=1)
    runner = make_runner(config, tmp_path / 'work', 'frozen', train_dataloader=dict(batch_size=5),
                         model=dict(backbone=dict(norm_eval=True)))
    has_other_bn = any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
                       for name, m in runner.model.named_modules() if not name.startswith('backbone'))
    runner.train()
    assert not has_other_bn and 'holds 1 sample' not in capsys.readouterr().out
