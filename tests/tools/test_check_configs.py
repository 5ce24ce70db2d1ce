"""tools/check_configs.py: which configs build here (model and every pipeline), ours and mmaction2's form."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'engine'))
from test_mmaction2_config_form import MMACTION2_FORM  # noqa: E402
from test_mmaction2_omnisource_form import OMNISOURCE_FORM  # noqa: E402
from tiny import load_tool  # noqa: E402

from resbackbones.engine.cli import run_tool  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
DEMOS = sorted(str(p) for p in (REPO / 'configs/recognition/demo').glob('*.py'))


def test_configs_that_build_and_one_that_does_not(tmp_path, capsys):
    mmaction2_form = tmp_path / 'mmaction2_form.py'
    mmaction2_form.write_text(MMACTION2_FORM.replace('DATA_ROOT', repr(str(tmp_path))))
    broken = tmp_path / 'broken.py'
    broken.write_text(MMACTION2_FORM.replace('DATA_ROOT', repr(str(tmp_path))).replace("'DecordDecode'",
                                                                                        "'DecordDecodeX'"))
    tool = load_tool('check_configs').main
    assert run_tool(tool, DEMOS + [str(mmaction2_form)], prog='check_configs.py') == 0
    out = capsys.readouterr().out
    assert all(f'{p}: ok' in out for p in DEMOS + [str(mmaction2_form)]) and f'{len(DEMOS) + 1} of' in out
    assert run_tool(tool, [str(mmaction2_form), str(broken)], prog='check_configs.py') == 1
    out = capsys.readouterr().out
    assert f"{broken}: KeyError: 'DecordDecodeX is not in the resbackbones::transform registry" in out
    assert out.strip().endswith('1 of 2 configs build')


def test_a_missing_file_is_exit_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        load_tool('check_configs').main([str(tmp_path / 'nope.py')])
    assert exit_.value.code == 2 and 'config file not found' in capsys.readouterr().err


def test_load_only_translates_an_arcface_torch_file_without_building(tmp_path, capsys):
    path = tmp_path / 'wf42m_r100.py'
    path.write_text('from easydict import EasyDict as edict\nconfig = edict()\nconfig.network = "r100"\n'
                    'config.rec = "/train_tmp/WebFace42M"\nconfig.num_classes = 2059906\nconfig.num_epoch = 20\n')
    assert load_tool('check_configs').main([str(path), '--load-only']) == 0
    assert capsys.readouterr().out.strip().endswith('1 of 1 configs load')


def test_omnisources_image_loader_is_checked_too(tmp_path, capsys):
    form = OMNISOURCE_FORM.replace('DATA_ROOT', repr(str(tmp_path))).replace('IMAGE_ROOT', repr(str(tmp_path)))
    good, broken = tmp_path / 'omni.py', tmp_path / 'omni_broken.py'
    good.write_text(form)
    broken.write_text(form.replace("dict(type='LoadRGBFromFile')", "dict(type='LoadRGBFromFile', io_backend='s3')"))
    assert load_tool('check_configs').main([str(good), str(broken)]) == 1
    out = capsys.readouterr().out
    assert f'{good}: ok' in out and f"{broken}: ValueError: LoadRGBFromFile: io_backend must be one of" in out


def test_the_pipeline_inside_a_wrapper_is_checked_too(tmp_path, capsys):
    """CachedDataset's loading steps sit in the dataset it wraps: a bad step there is found as in the outer one."""
    def config(load_step: str) -> str:
        inner = f"dict(type='SegFolderDataset', data_root='x', classes=('bg', 'fg'), pipeline=[{load_step}])"
        return ("model = dict(type='ImageClassifier', num_classes=2, backbone=dict(type='ResNet', depth=18))\n"
                f"train_dataloader = dict(dataset=dict(type='CachedDataset', dataset={inner}, "
                "pipeline=[dict(type='PackSegInputs')]))\n")
    good, broken = tmp_path / 'cached.py', tmp_path / 'cached_broken.py'
    good.write_text(config("dict(type='LoadImageAndMask')"))
    broken.write_text(config("dict(type='LoadImageAndMaskX')"))
    assert load_tool('check_configs').main([str(good), str(broken)]) == 1
    out = capsys.readouterr().out
    assert f'{good}: ok' in out and f"{broken}: KeyError: 'LoadImageAndMaskX is not in" in out


def test_a_wrapper_inside_a_concat_dataset_is_checked_too(tmp_path, capsys):
    # ConcatDataset([RepeatDataset(dataset=...)]): the inner pipeline went unchecked and the config was called ok
    path = tmp_path / 'concat_repeat.py'
    inner = "dict(type='ImageFolderDataset', data_root='x', pipeline=[dict(type='NoSuchTransform')])"
    path.write_text("model = dict(type='ImageClassifier', num_classes=2, backbone=dict(type='ResNet', depth=18))\n"
                    "train_dataloader = dict(dataset=dict(type='ConcatDataset', datasets=[dict(type='RepeatDataset', "
                    f"times=2, dataset={inner})]))\n")
    assert load_tool('check_configs').main([str(path)]) == 1
    assert f"{path}: KeyError: 'NoSuchTransform is not in" in capsys.readouterr().out
