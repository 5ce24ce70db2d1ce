"""tools/analysis/get_flops.py: counts a named model or a config's model; bad input is one line and exit 2."""
from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / 'tools' / 'analysis' / 'get_flops.py'


@pytest.fixture(scope='module')
def tool():
    spec = importlib.util.spec_from_file_location('get_flops', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def numbers(text: str) -> tuple[str, float, float]:
    """(input, params M, GMACs) read from the tool's output."""
    return (re.search(r'input:\s+(\S+)', text).group(1), float(re.search(r'params:\s+([\d.]+) M', text).group(1)),
            float(re.search(r'GMACs:\s+([\d.]+)', text).group(1)))


@pytest.mark.parametrize('argv, expected', [
    (['resnet50'], ('1x3x224x224', 23.51, 4.09)),
    (['resnet50', '--num-classes', '1000'], ('1x3x224x224', 25.56, 4.09)),
    (['resnet18', '--in-channels', '1', '--shape', '448', '448'], ('1x1x448x448', 11.17, 6.94)),
])
def test_named_model(tool, capsys, argv, expected):
    assert tool.main(argv) == 0
    assert numbers(capsys.readouterr().out) == expected


@pytest.mark.parametrize('model, counted', [
    ("dict(type='ImageClassifier', num_classes=10, backbone=dict(type='ResNet', depth=18))", 'model.backbone'),
    ("dict(type='ResNet', depth=18)", 'model'),
])
def test_config_counts_the_backbone_when_there_is_one(tool, capsys, tmp_path, model, counted):
    config = tmp_path / 'cfg.py'
    config.write_text(f'model = {model}\n')
    assert tool.main([str(config)]) == 0
    out = capsys.readouterr().out
    assert f'{config}: {counted} (ResNet)' in out and numbers(out) == ('1x3x224x224', 11.18, 1.81)


VIDEO_TEST = ("test_dataloader = dict(dataset=dict(pipeline=[dict(type='SampleFrames', clip_len=8, num_clips=1), "
              "dict(type='CenterCrop', crop_size=(40, 48))]))\n")  # mmaction2's crop_size: (w, h)


@pytest.mark.parametrize('model, expected', [
    ("dict(type='FaceRecognizer', num_classes=5, input_size=(16, 24), backbone=dict(type='IResNet', depth=18))",
     '1x3x16x24 (model.input_size)'),
    ("dict(type='UNet', num_classes=2, backbone=dict(type='VolumeResNet', depth=18, in_channels=1), "
     "test_cfg=dict(mode='slide', patch_size=(32, 64, 64)))", '1x1x32x64x64 (model.test_cfg.patch_size)'),
    # one int is that size on every axis, as the U-Net reads it (was 2D: 'does not run on a 1x1x32x32 input')
    ("dict(type='UNet', num_classes=2, backbone=dict(type='VolumeResNet', depth=18, in_channels=1), "
     "test_cfg=dict(mode='slide', patch_size=32))", '1x1x32x32x32 (model.test_cfg.patch_size)'),
    ("dict(type='UNet', num_classes=2, backbone=dict(type='ResNet', depth=18), test_cfg=dict(mode='whole'))",
     '1x3x224x224'),
    # a video model's test clip (it tried 224x224 images: 'ResNet3d takes (N, C, T, H, W) inputs')
    ("dict(type='Recognizer3D', backbone=dict(type='ResNet3d', depth=18, base_channels=8), num_classes=3)",
     '1x3x8x48x40 (test_dataloader pipeline)'),
])
def test_a_config_is_counted_at_the_size_it_runs_at(tool, capsys, tmp_path, model, expected):
    config = tmp_path / 'cfg.py'
    config.write_text(f'model = {model}\n' + (VIDEO_TEST if 'ResNet3d' in model else ''))
    assert tool.main([str(config)]) == 0
    assert f'input:  {expected}\n' in capsys.readouterr().out
    dims = expected.split()[0].count('x') - 1
    assert tool.main([str(config), '--shape', *['32'] * dims]) == 0  # --shape wins
    assert 'x32' * dims + '\n' in capsys.readouterr().out


def test_a_frame_backbone_is_counted_on_one_clip(tool, capsys, tmp_path):
    config = tmp_path / 'cfg.py'
    config.write_text("model = dict(type='ResNetTSM', depth=18, num_segments=4)\n")
    assert tool.main([str(config)]) == 0
    out = capsys.readouterr().out
    assert 'input:  4x3x224x224 (one clip of 4 frames)' in out
    assert tool.main(['resnet18']) == 0  # the shift has no multiply-adds: four frames of ResNet-18
    assert numbers(out)[-1] == pytest.approx(4 * numbers(capsys.readouterr().out)[-1], abs=0.02)


@pytest.mark.parametrize('argv, config, message', [
    (['resnt50'], None, "unknown model name 'resnt50'; did you mean"),
    (['missing.py'], None, 'config file not found: missing.py'),
    (['{cfg}'], 'x = 1', "expected a 'model' dict"),
    (['{cfg}'], 'model = dict(type=', 'cannot read the config: SyntaxError'),
    (['{cfg}'], "model = dict(type='ResNot')", 'cannot build model: '),
    (['{cfg}', '--num-classes', '10'], "model = dict(type='ResNet', depth=18)", 'named models only'),
    (['resnet18', '--shape', '8', '64', '64'], None, 'does not run on a 1x3x8x64x64 input'),
    (['{cfg}'], "model = dict(type='ResNet3dSlowFast')", 'does not run on a 1x3x224x224 input'),  # a named error
    # a forward of two inputs: a TypeError traceback
    (['{cfg}', '--shape', '8', '56', '56'], "model = dict(type='RGBPoseConv3D')", 'does not run on a'),
])
def test_bad_input_is_one_line_and_exit_2(tool, capsys, tmp_path, argv, config, message):
    if config is not None:
        (tmp_path / 'cfg.py').write_text(config + '\n')
    assert tool.main([a.format(cfg=tmp_path / 'cfg.py') for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and err.startswith('error: ') and message in err


@pytest.mark.parametrize('argv', [[], ['resnet18', '--all'], ['resnet18', '--shape', '224'],
                                  ['resnet18', '--in-channels', '0'],
                                  # ignored by the table (or a traceback for 3 sizes)
                                  ['--all', '--num-classes', '10'], ['--all', '--in-channels', '1'],
                                  ['--all', '--shape', '5', '64', '64']])
def test_bad_arguments_exit_2(tool, argv):
    with pytest.raises(SystemExit) as exc:
        tool.main(argv)
    assert exc.value.code == 2


@pytest.mark.slow  # starts a Python process (imports torch)
def test_script_exit_status():
    result = subprocess.run([sys.executable, str(SCRIPT), 'resnt50'], capture_output=True, text=True)
    assert result.returncode == 2 and result.stdout == '' and "unknown model name 'resnt50'" in result.stderr


@pytest.mark.slow  # builds and counts all named models (about 10 s)
def test_all_prints_the_table(tool, capsys):
    from resbackbones import list_models
    assert tool.main(['--all']) == 0
    body = capsys.readouterr().out.splitlines()[2:]
    assert sorted(line.split('|')[1].strip() for line in body) == list_models()
