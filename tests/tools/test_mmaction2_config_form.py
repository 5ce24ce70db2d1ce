"""A config in mmaction2's own form (its default runtime: default_scope='mmaction', ActionVisualizer, SyncBuffersHook,
nccl; decord reader names; epoch loop, TenCrop test) trains, tests and resumes with tools/train.py and tools/test.py
unchanged, on tiny real-format videos."""
import json
import sys
from pathlib import Path

import pytest
import torch

from resbackbones.registry import VISUALIZERS

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: video_fixtures
from video_fixtures import write_labelled_videos  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'engine'))  # tests/engine: tiny
from tiny import run_tool_here as run  # noqa: E402

# Written here in the layout of mmaction2's configs/_base_/default_runtime.py and a TSN leaf (tiny widths and sizes).
MMACTION2_FORM = '''default_scope = 'mmaction'
default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'), timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=1, ignore_last=False), param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=1, save_best='auto'),
    sampler_seed=dict(type='DistSamplerSeedHook'), sync_buffers=dict(type='SyncBuffersHook'))
env_cfg = dict(cudnn_benchmark=False, mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
               dist_cfg=dict(backend='nccl'))
log_processor = dict(type='LogProcessor', window_size=20, by_epoch=True)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='ActionVisualizer', vis_backends=vis_backends)
log_level = 'INFO'
load_from = None
resume = False
model = dict(
    type='Recognizer2D',
    backbone=dict(type='ResNet', pretrained=None, depth=18, norm_eval=False, base_channels=8),
    cls_head=dict(type='TSNHead', num_classes=2, in_channels=64, spatial_type='avg',
                  consensus=dict(type='AvgConsensus', dim=1), dropout_ratio=0.4, init_std=0.01, average_clips='prob'),
    data_preprocessor=dict(type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], format_shape='NCHW'),
    train_cfg=None, test_cfg=None)
dataset_type = 'VideoDataset'
data_root = DATA_ROOT
file_client_args = dict(io_backend='disk')
train_pipeline = [
    dict(type='DecordInit', **file_client_args),
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=3),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 64)),
    dict(type='MultiScaleCrop', input_size=48, scales=(1, 0.875, 0.75, 0.66), random_crop=False, max_wh_scale_gap=1),
    dict(type='Resize', scale=(48, 48), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')]
val_pipeline = [
    dict(type='DecordInit', **file_client_args),
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=3, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 64)),
    dict(type='CenterCrop', crop_size=48),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')]
test_pipeline = [
    dict(type='DecordInit', **file_client_args),
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=5, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 64)),
    dict(type='TenCrop', crop_size=48),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')]
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False, sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, ann_file=data_root + '/train.txt', data_prefix=dict(video=data_root),
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=data_root + '/val.txt', data_prefix=dict(video=data_root),
                 pipeline=val_pipeline, test_mode=True))
test_dataloader = dict(
    batch_size=1, num_workers=0, persistent_workers=False, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=data_root + '/val.txt', data_prefix=dict(video=data_root),
                 pipeline=test_pipeline, test_mode=True))
val_evaluator = dict(type='AccMetric', metric_options=dict(top_k_accuracy=dict(topk=(1,))))
test_evaluator = val_evaluator
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=2, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [dict(type='MultiStepLR', begin=0, end=2, by_epoch=True, milestones=[1], gamma=0.1)]
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001),
                     clip_grad=dict(max_norm=40, norm_type=2))
auto_scale_lr = dict(enable=False, base_batch_size=256)
'''


def test_mmaction2_form_config_trains_tests_and_resumes(tmp_path, capsys):
    data = tmp_path / 'data'
    data.mkdir()
    write_labelled_videos(data, test_list='val.txt')
    config = tmp_path / 'tsn_mmaction2_form.py'
    config.write_text(MMACTION2_FORM.replace('DATA_ROOT', repr(str(data))))
    work = tmp_path / 'work'
    trained = run('train', capsys, str(config), '--work-dir', str(work))
    assert "is a mmaction2 config; running it here with default_scope 'mmaction' -> 'resbackbones'" in trained
    ckpt = torch.load(work / 'epoch_2.pth', weights_only=True)  # SafeRunner's checkpoint format
    assert any(k.startswith('head.fc.') for k in ckpt['state_dict'])
    tested = run('test', capsys, str(config), str(work / 'epoch_2.pth'), '--work-dir', str(tmp_path / 'test'))
    assert set(json.loads(tested.strip().splitlines()[-1])) == {'acc/top1', 'acc/mean1'}
    resumed = run('train', capsys, str(config), '--work-dir', str(work), '--resume', '--cfg-options',
                  'train_cfg.max_epochs=3')
    assert 'resumed epoch: 2' in resumed and (work / 'epoch_3.pth').is_file()


def test_action_visualizer_logs_and_says_it_does_not_draw():
    visualizer = VISUALIZERS.build(dict(type='ActionVisualizer', name='test_action_visualizer', vis_backends=[]))
    with pytest.raises(NotImplementedError, match='drawing video samples is not provided'):
        visualizer.add_datasample('clip', None)


@pytest.mark.parametrize('backend, precision', [('onnxruntime', 'fp32'), ('openvino', 'int8')])
def test_mmaction2_form_config_deploys_and_evaluates_through_the_backend(tmp_path, capsys, backend, precision):
    """TSN over 5 clips x TenCrop (50 frames a video) deployed whole (clip_logits: the frames to the consensus
    logits) and tested through the backend (--eval refuses a test that never calls it)."""
    from resbackbones.engine.config import load_config
    from resbackbones.registry import MODELS
    data = tmp_path / 'data'
    data.mkdir()
    write_labelled_videos(data, test_list='val.txt')
    config = tmp_path / 'tsn_mmaction2_form.py'
    config.write_text(MMACTION2_FORM.replace('DATA_ROOT', repr(str(data))))
    torch.manual_seed(0)
    ckpt = tmp_path / 'model.pth'
    torch.save({'state_dict': MODELS.build(load_config(str(config)).model).state_dict()}, ckpt)
    out = tmp_path / 'deployed'
    run('deploy', capsys, str(config), str(ckpt), '--backend', backend, '--precision', precision,
        '--calib-batches', '2', '--out', str(out), '--eval')
    manifest = json.loads((out / 'deploy.json').read_text())
    assert manifest['kind'] == 'classifier' and manifest['example_shape'][1:] == [50, 3, 48, 48]
    metrics = manifest['metrics']
    assert set(metrics[backend]) == {'acc/top1', 'acc/mean1'}
    if precision == 'fp32':
        assert metrics['change'] == {'acc/top1': 0.0, 'acc/mean1': 0.0}
        assert manifest['top1_agreement'] == 1.0
    else:
        assert manifest['calibration_inputs'] == 4  # two batches of two training videos (50 frames each)
