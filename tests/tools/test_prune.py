"""tools/prune.py -> tools/test.py / tools/train.py end to end on a tiny classifier; bad inputs are one line."""
import json
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'engine'))  # tests/engine: the shared tiny set-up
from tiny import load_tool, tiny_setup  # noqa: E402

from resbackbones.deploy.loading import load_task_model  # noqa: E402
from resbackbones.engine.cli import run_tool  # noqa: E402
from resbackbones.engine.config import load_config  # noqa: E402
from resbackbones.registry import MODELS  # noqa: E402



def last_json(capsys):
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    """Tiny config and a checkpoint whose upper half of every block's conv1 channels is silenced (BN scale and
    shift 0): pruning half of them by BN scale removes exactly those, so accuracy must not change."""
    tmp = tmp_path_factory.mktemp('prune')
    config = tiny_setup(tmp)
    torch.manual_seed(0)
    model = MODELS.build(load_config(str(config)).model)
    with torch.no_grad():
        for stage in model.backbone.stages():
            for block in stage:
                half = block.bn1.num_features // 2
                block.bn1.weight[:half].uniform_(0.5, 1.5)
                block.bn1.weight[half:] = 0
                block.bn1.bias[half:] = 0
                block.bn2.weight.uniform_(0.5, 1.5)  # zero_init_residual would make every block an identity
    ckpt = tmp / 'model.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {'dataset_meta': {'classes': ('0', '1')}}}, ckpt)
    return tmp, config, ckpt


def test_prune_then_test_and_fine_tune(tiny, capsys):
    tmp, config, ckpt = tiny
    out = tmp / 'pruned'
    assert run_tool(load_tool('prune').main, [str(config), str(ckpt), '--ratio', '0.5', '--out', str(out)],
                    prog='prune.py') == 0
    printed = capsys.readouterr().out
    assert 'before: params' in printed and 'after:  params' in printed
    pruned_cfg, pruned_ckpt = out / 'tiny_pruned.py', out / 'pruned.pth'
    assert sorted(p.name for p in out.iterdir()) == ['pruned.pth', 'tiny_pruned.py']
    cfg = load_config(str(pruned_cfg))
    assert cfg.model.backbone.block_widths == [[4, 4], [8, 8], [16, 16], [32, 32]]
    assert cfg.load_from == str(pruned_ckpt)
    pruned = load_task_model(cfg, str(pruned_ckpt))  # strict: every key and shape matches
    # the training classes go along, so that tools/test.py still compares them with a test set's
    assert torch.load(pruned_ckpt, weights_only=True)['meta']['dataset_meta'] == {'classes': ('0', '1')}
    assert pruned.backbone.feature_specs == MODELS.build(load_config(str(config)).model).backbone.feature_specs

    test_main = load_tool('test').main
    assert run_tool(test_main, [str(config), str(ckpt), '--work-dir', str(tmp / 'w0')], prog='test.py') == 0
    before = last_json(capsys)
    assert run_tool(test_main, [str(pruned_cfg), str(pruned_ckpt), '--work-dir', str(tmp / 'w1')],
                    prog='test.py') == 0
    assert last_json(capsys) == before

    leaf = tmp / 'finetune.py'  # a file name of its own: mmengine names a run's logger after its config file
    leaf.write_text(f'_base_ = [{str(pruned_cfg)!r}]\n')
    assert run_tool(load_tool('train').main, [str(leaf), '--work-dir', str(tmp / 'ft'), '--cfg-options',
                                         'train_cfg.max_epochs=1', 'optim_wrapper.optimizer.lr=0.0'],
                    prog='train.py') == 0
    tuned = torch.load(tmp / 'ft' / 'epoch_1.pth', weights_only=True)['state_dict']
    start = torch.load(pruned_ckpt, weights_only=True)['state_dict']
    assert torch.equal(tuned['backbone.layer3.1.conv1.weight'], start['backbone.layer3.1.conv1.weight'])  # lr 0


@pytest.mark.parametrize('args, message', [
    (['--ratio', '1.0'], '--ratio must be in [0, 1); got 1.0'),
    (['--ratio', '0.5', 'MISSING'], 'CHECKPOINT: checkpoint file not found'),
    (['--ratio', '0.5', 'MISMATCH'], 'does not match config'),
    (['--ratio', '0.5', 'OCCUPIED'], 'holds other files'),
    (['--ratio', '0.5', '--shape', '4', '16', '16'], '--shape: ResNet takes 2 sizes (H W); got [4, 16, 16]'),
    # re-pruning into the folder that holds the input deleted the input
    (['--ratio', '0.5', 'INSIDE'], 'lies inside --out'),
])
def test_bad_input_is_one_line_exit_2_and_nothing_written(tiny, tmp_path, args, message, capsys):
    _, config, ckpt = tiny
    if 'MISSING' in args:
        ckpt = tmp_path / 'missing.pth'
    if 'MISMATCH' in args:
        ckpt = tmp_path / 'other.pth'
        torch.save(MODELS.build(dict(load_config(str(config)).model, num_classes=5)).state_dict(), ckpt)
    out, occupied = tmp_path / 'out', 'OCCUPIED' in args or 'INSIDE' in args
    if occupied:
        out.mkdir()
        (out / 'keep.txt').write_text('a training run')
    if 'INSIDE' in args:
        (out / 'keep.txt').unlink()
        ckpt = out / 'pruned.pth'  # an earlier prune's checkpoint, pruned again into its own folder
        ckpt.write_bytes(tiny[2].read_bytes())
    args = [a for a in args if a not in ('MISSING', 'MISMATCH', 'OCCUPIED', 'INSIDE')]
    try:
        code = run_tool(load_tool('prune').main, [str(config), str(ckpt), *args, '--out', str(out)], prog='prune.py')
    except SystemExit as exit_:  # argument errors leave through argparse
        code = exit_.code
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith('prune.py: error: ') and message in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith('.')) == []
    kept = ['pruned.pth'] if ckpt.parent == out else ['keep.txt']
    assert [p.name for p in out.iterdir()] == kept if occupied else not out.exists()


@pytest.mark.parametrize('cfg, shape, batch', [
    # a video test batch carries a clips axis: the count got a 6-D input and blamed the channels
    (dict(type='Recognizer3D', num_classes=2, backbone=dict(type='ResNet3d', depth=18, base_channels=8)),
     ['4', '16', '16'], '1x3x4x16x16'),
    # frame backbones take a clip of num_segments frames (temporal_shift refused a batch of 1)
    (dict(type='Recognizer2D', backbone=dict(type='ResNetTSM', depth=18, base_channels=8, num_segments=4),
          cls_head=dict(type='TSMHead', num_classes=2, num_segments=4)), ['16', '16'], '4x3x16x16 (one clip of 4'),
])
def test_video_models_are_counted_on_one_backbone_input(tiny, tmp_path, cfg, shape, batch, capsys):
    config = tmp_path / 'video.py'
    config.write_text(f'_base_ = [{str(tiny[1])!r}]\nmodel = dict(_delete_=True, **{cfg!r})\n')
    ckpt = tmp_path / 'video.pth'
    torch.save({'state_dict': MODELS.build(cfg).state_dict()}, ckpt)
    code = run_tool(load_tool('prune').main, [str(config), str(ckpt), '--ratio', '0.5', '--out', str(tmp_path / 'o'),
                                              '--shape', *shape], prog='prune.py')
    out = capsys.readouterr().out
    assert code == 0 and f'input {batch}' in out, out
    before, after = (float(line.rsplit(' ', 1)[1]) for line in out.splitlines() if line.startswith(('before', 'after')))
    assert 0 < after < before


def test_a_relative_out_gives_a_config_that_fine_tunes_from_anywhere(tiny, tmp_path, monkeypatch, capsys):
    _, config, ckpt = tiny
    monkeypatch.chdir(tmp_path)
    assert run_tool(load_tool('prune').main, [str(config), str(ckpt), '--ratio', '0.5', '--out', 'rel'],
                    prog='prune.py') == 0
    assert load_config(str(tmp_path / 'rel' / 'tiny_pruned.py')).load_from == str(tmp_path / 'rel' / 'pruned.pth')


def test_a_model_level_pretrained_init_cfg_does_not_stop_fine_tuning(tiny, tmp_path, capsys):
    """The AVA configs' model-level Pretrained stayed in the written config: tools/train.py's init_weights loaded
    the full-width file into the pruned model before load_from, and stopped on the shapes."""
    _, config, ckpt = tiny
    with_init = tmp_path / 'with_init.py'
    with_init.write_text(f"_base_ = [{str(config)!r}]\nmodel = dict(init_cfg=dict(type='Pretrained', "
                         f"checkpoint={str(ckpt)!r}))\n")
    out = tmp_path / 'pruned'
    assert run_tool(load_tool('prune').main, [str(with_init), str(ckpt), '--ratio', '0.5', '--out', str(out)],
                    prog='prune.py') == 0
    assert load_config(str(out / 'with_init_pruned.py')).model.init_cfg is None
    leaf = tmp_path / 'tune_with_init.py'
    leaf.write_text(f"_base_ = [{str(out / 'with_init_pruned.py')!r}]\n")
    assert run_tool(load_tool('train').main, [str(leaf), '--work-dir', str(tmp_path / 'ft'), '--cfg-options',
                                         'train_cfg.max_epochs=1'], prog='train.py') == 0
