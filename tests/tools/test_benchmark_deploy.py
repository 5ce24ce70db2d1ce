"""tools/benchmark_deploy.py's configs task: configs with checkpoints timed side by side, with params and GMACs."""
import json
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'engine'))  # tests/engine: the shared tiny set-up
from tiny import load_tool, tiny_setup  # noqa: E402

from resbackbones.deploy.prune import prune_model  # noqa: E402
from resbackbones.engine.config import load_config  # noqa: E402
from resbackbones.registry import MODELS  # noqa: E402



def test_configs_task_times_a_pruned_model_against_its_original(tmp_path, capsys):
    config = tiny_setup(tmp_path)
    cfg = load_config(str(config))
    model = MODELS.build(cfg.model).eval()
    pruned, backbone_cfg = prune_model(model, cfg.model, 0.75)
    ckpt, pruned_ckpt, pruned_config = tmp_path / 'a.pth', tmp_path / 'p' / 'b.pth', tmp_path / 'p' / 'tiny.py'
    pruned_config.parent.mkdir()
    torch.save({'state_dict': model.state_dict()}, ckpt)
    torch.save({'state_dict': pruned.state_dict()}, pruned_ckpt)
    pruned_config.write_text(f'_base_ = [{str(config)!r}]\nmodel = dict(backbone={backbone_cfg!r})\n')
    assert load_tool('benchmark_deploy').main(['configs', '--models', str(config), str(ckpt), str(pruned_config),
                                  str(pruned_ckpt), '--rounds', '2', '--warmup', '0']) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert list(out['result']) == [f'{tmp_path.name}/tiny', 'p/tiny']
    assert out['result'][f'{tmp_path.name}/tiny']['speedup'] == 1.0
    sizes = out['sizes']  # was stored under 'agreement'
    assert sizes['p/tiny']['params_M'] < sizes[f'{tmp_path.name}/tiny']['params_M']
    assert sizes['p/tiny']['backbone_GMACs'] < sizes[f'{tmp_path.name}/tiny']['backbone_GMACs']


@pytest.mark.parametrize('argv', [['configs'], ['configs', '--models', 'a.py'], ['resnet50', '--models', 'a', 'b']])
def test_models_go_in_pairs_with_the_configs_task(argv):
    with pytest.raises(SystemExit) as exit_:
        load_tool('benchmark_deploy').main(argv)
    assert exit_.value.code == 2


def test_a_config_given_twice_is_refused_rather_than_merged_into_one_row(tmp_path, capsys):
    config = tiny_setup(tmp_path)
    ckpt = tmp_path / 'a.pth'
    torch.save({'state_dict': MODELS.build(load_config(str(config)).model).state_dict()}, ckpt)
    with pytest.raises(SystemExit) as exit_:
        load_tool('benchmark_deploy').main(['configs', '--models', str(config), str(ckpt), str(config), str(ckpt)])
    assert exit_.value.code == 2 and f"row '{tmp_path.name}/tiny' comes twice" in capsys.readouterr().err


@pytest.mark.parametrize('argv, message', [
    (['resnet50', '--threads', '0'], '--threads must be >= 1; got 0'),  # ignored: torch's default ran
    (['resnet50', '--rounds', '0'], '--batch and --rounds must be >= 1'),  # refused only after every build
    (['resnet50', '--batch', '0'], '--batch and --rounds must be >= 1'),
    (['resnet50', '--variants', 'torch'], "--variants 'torch': expected BACKEND:PRECISION"),
    (['resnet50', '--variants', 'torch:fp32:compil'], "'torch:fp32:compil'"),  # ran uncompiled, labelled compil
    (['resnet50', '--checkpoint', 'x.pth'], '--checkpoint goes with the unet and maskrcnn tasks'),
    (['configs', '--models', 'a.py', 'b.pth', '--variants', 'onnxruntime:fp32'], 'do not apply to the configs'),
])
def test_arguments_that_would_be_ignored_or_fail_late_are_named(argv, message, capsys, tmp_path):
    if '--models' in argv:
        for name in ('a.py', 'b.pth'):
            (tmp_path / name).write_text('x')
        argv = [str(tmp_path / a) if a in ('a.py', 'b.pth') else a for a in argv]
    with pytest.raises(SystemExit) as exit_:
        load_tool('benchmark_deploy').main(argv)
    assert exit_.value.code == 2 and message in capsys.readouterr().err
