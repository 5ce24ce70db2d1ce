"""tools/train.py, tools/test.py and tools/dist_train.sh run recognizers from configs on tiny synthetic videos."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from resbackbones.engine.cli import run_tool

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: video_fixtures, gloo
from gloo import free_port  # noqa: E402
from video_fixtures import write_labelled_videos  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'engine'))  # tests/engine: load_tool
from tiny import load_tool  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / 'tools'
CONFIGS = {'resnet3d': REPO / 'configs/recognition/demo/resnet3d-tiny_8x1_video-demo.py',
           'tsn': REPO / 'configs/recognition/demo/tsn-tiny_8x1_video-demo.py',
           'tsm': REPO / 'configs/recognition/demo/tsn-tiny_8x1_video-demo.py'}
# TSM on the TSN demo's 8 frames: the shift backbone, TSMHead and mmaction2's TSM optimizer groups, as its configs.
CHANGES = {'tsm': '''model = dict(backbone=dict(type='ResNetTSM', num_segments=8),
             cls_head=dict(type='TSMHead', num_segments=8))
optim_wrapper = dict(constructor='TSMOptimWrapperConstructor', paramwise_cfg=dict(fc_lr5=True))
'''}


def env(**extra):
    return dict(os.environ, OMP_NUM_THREADS='1', **extra)


@pytest.fixture(scope='module')
def video_data(tmp_path_factory):
    """Four 12-frame 64x64 videos (two per label) and their train/test lists."""
    return write_labelled_videos(tmp_path_factory.mktemp('video_data'))


def leaf(tmp_path: Path, model: str, data: Path) -> Path:
    path = tmp_path / f'{model}_tiny.py'
    path.write_text(f'''_base_ = [{str(CONFIGS[model])!r}]
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        dataset=dict(data_root={str(data)!r}, ann_file='train.txt'))
val_dataloader = dict(batch_size=2, dataset=dict(data_root={str(data)!r}, ann_file='test.txt'))
test_dataloader = val_dataloader
train_cfg = dict(max_iters=4)
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=4))
''' + CHANGES.get(model, ''))
    return path


def train_then_test(config: Path, work: Path, test_dir: Path, capsys) -> dict:
    """tools/train.py then tools/test.py on ``work/iter_4.pth``, in this interpreter (two fresh ones per model
    would cost seconds of imports each; the command line itself runs in the dist_train.sh test); test metrics."""
    assert run_tool(load_tool('train').main, [str(config), '--work-dir', str(work)], prog='train.py') == 0
    capsys.readouterr()
    assert run_tool(load_tool('test').main, [str(config), str(work / 'iter_4.pth'), '--work-dir', str(test_dir)],
                    prog='test.py') == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


@pytest.mark.parametrize('model', ['resnet3d', 'tsn', 'tsm'])
def test_train_then_test_a_recognizer(video_data, tmp_path, model, capsys):
    config, work = leaf(tmp_path, model, video_data), tmp_path / 'work'
    metrics = train_then_test(config, work, tmp_path / 'test', capsys)
    ckpt = torch.load(work / 'iter_4.pth', weights_only=True)
    assert any(k.startswith('head.fc.') for k in ckpt['state_dict'])
    groups = ckpt['optimizer']['param_groups']
    assert len(groups) == (7 if model == 'tsm' else 1)  # TSM's seven learning-rate groups came from its constructor
    assert set(metrics) == {'acc/top1', 'acc/mean1'} and metrics['acc/top1'] in (0.0, 0.5, 1.0)


def test_bad_list_line_is_one_line_with_file_and_line(video_data, tmp_path, capsys):
    bad = tmp_path / 'bad.txt'
    bad.write_text('v0.mp4 0\nv1.mp4 7\n')
    argv = [str(leaf(tmp_path, 'resnet3d', video_data)), '--work-dir', str(tmp_path / 'w'),
            '--cfg-options', f'train_dataloader.dataset.ann_file={bad}']
    assert run_tool(load_tool('train').main, argv, prog='train.py') == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].endswith(
        f'VideoDataset: {bad}, line 2: label 7 is out of range; expected 0..1 (num_classes=2)')


@pytest.mark.slow
def test_two_processes_through_dist_train_sh(video_data, tmp_path):
    config, work = leaf(tmp_path, 'resnet3d', video_data), tmp_path / 'work'
    run_env = env(PYTHON=sys.executable, PORT=str(free_port()), CUDA_VISIBLE_DEVICES='')
    done = subprocess.run(['bash', str(TOOLS / 'dist_train.sh'), str(config), '2', '--work-dir', str(work)],
                          capture_output=True, text=True, env=run_env, timeout=600)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    assert (work / 'iter_4.pth').is_file()
    logs = '\n'.join(p.read_text() for p in work.glob('*/*.log'))
    assert 'Distributed training: True' in logs and 'GPU number: 2' in logs  # mmengine's name for the world size


def test_multi_label_recognizer_trains_and_reports_map(video_data, tmp_path, capsys):
    """mmaction2's multi_class lists: multi-hot labels, BCE training, mean average precision in testing."""
    (tmp_path / 'multi.txt').write_text('v0.mp4 0 1\nv1.mp4 1\nv2.mp4 0\nv3.mp4 0 1\n')
    config = leaf(tmp_path, 'resnet3d', video_data)
    multi = dict(data_root=str(video_data), ann_file=str(tmp_path / 'multi.txt'), multi_class=True, num_classes=2)
    config.write_text(config.read_text() + f'''
model = dict(multi_class=True)
train_dataloader['dataset'].update({multi!r})  # update, not replace: the leaf's loader settings stay
val_dataloader['dataset'].update({multi!r})
val_evaluator = dict(type='AccMetric', metric_list=('mean_average_precision',))
test_evaluator = val_evaluator
''')
    metrics = train_then_test(config, tmp_path / 'work', tmp_path / 'test', capsys)
    assert set(metrics) == {'acc/mean_average_precision'} and 0.5 <= metrics['acc/mean_average_precision'] <= 1.0
