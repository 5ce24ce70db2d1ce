"""Typos under env_cfg and auto_scale_lr are errors naming the key, from the runner and from tools/train.py."""
import sys
from pathlib import Path

import pytest

from resbackbones.engine.runtime_keys import check_runtime_keys

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_runner import make_runner  # noqa: E402
from tiny import load_tool, tiny_setup  # noqa: E402


@pytest.mark.parametrize('env_cfg, auto_scale_lr, message', [
    (dict(cudnn_benchmrk=True), None, "env_cfg: unknown key(s) 'cudnn_benchmrk'; expected some of ['cudnn_benchmark'"),
    (None, dict(enabel=True, base_batch_size=256), "auto_scale_lr: unknown key(s) 'enabel'"),
    (None, dict(enable=True), 'auto_scale_lr.enable is true but base_batch_size is None'),
    ([('cudnn_benchmark', True)], None, 'env_cfg must be a dict'),
])
def test_unknown_or_missing_keys_are_named(env_cfg, auto_scale_lr, message):
    with pytest.raises(ValueError) as err:
        check_runtime_keys(env_cfg, auto_scale_lr)
    assert message in str(err.value)


def test_the_keys_mmengine_and_our_configs_use_pass():
    check_runtime_keys(dict(cudnn_benchmark=False, mp_cfg=dict(mp_start_method='fork'), dist_cfg=dict(backend='auto'),
                            resource_limit=4096, malloc=dict(mmap_threshold=1)), dict(enable=False, base_batch_size=16))
    check_runtime_keys(None, None)


def test_a_typo_given_to_tools_train_is_one_error_line(tmp_path, capsys):
    config = tiny_setup(tmp_path, max_epochs=1)
    from resbackbones.engine.cli import run_tool
    status = run_tool(load_tool('train').main, [str(config), '--work-dir', str(tmp_path / 'work'), '--cfg-options',
                                                'env_cfg.cudnn_benchmrk=True'], prog='train.py')
    assert status == 2 and "train.py: error: env_cfg: unknown key(s) 'cudnn_benchmrk'" in capsys.readouterr().err
    with pytest.raises(ValueError, match="'enabel'"):
        make_runner(config, tmp_path / 'work', 'scale', auto_scale_lr=dict(enabel=True))


@pytest.mark.parametrize('interval', [0, -1, 1.5])
def test_a_val_interval_below_one_is_named_before_training(tmp_path, interval):
    # 0 trained a whole epoch, wrote a checkpoint, then stopped in mmengine's loop on a ZeroDivisionError
    config = tiny_setup(tmp_path, max_epochs=1)
    with pytest.raises(ValueError, match=rf'train_cfg.val_interval must be an integer >= 1; got {interval}'):
        make_runner(config, tmp_path / 'work', 'interval', train_cfg=dict(val_interval=interval))
    assert not list((tmp_path / 'work').glob('*.pth'))


def test_a_save_best_key_the_evaluator_does_not_give_is_named(tmp_path):
    # a bare KeyError: 'accuracy/top5' from mmengine's CheckpointHook, an epoch into training
    config = tiny_setup(tmp_path, max_epochs=1)
    runner = make_runner(config, tmp_path / 'work', 'best', default_hooks=dict(checkpoint=dict(save_best='acc/top9')),
                         val_evaluator=dict(topk=(1,)))
    with pytest.raises(ValueError, match=r"default_hooks.checkpoint.save_best: 'acc/top9' is not a metric of the "
                                         r"validation, which gives \['accuracy/top1'\]"):
        runner.train()
