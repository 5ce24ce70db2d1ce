"""A PoseC3D config in mmaction2's form (skeleton/posec3d's keypoint config: PoseDataset in a RepeatDataset,
UniformSampleFrames, PoseCompact, keypoint Resize/crop/Flip, GeneratePoseTarget, 'NCTHW_Heatmap', ResNet3dSlowOnly
with mmaction2's arguments) trains and tests with tools/train.py and tools/test.py on an annotation pickle in
mmaction2's format (tiny: base width 8, 8-frame clips at 32 px; test with 2 clips x flip)."""
import json
import sys
from pathlib import Path

import torch


sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: pose_fixtures
from pose_fixtures import write_pose_annotations  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'engine'))  # tests/engine: tiny
from tiny import run_tool_here as run  # noqa: E402

# mmaction2's whole default runtime is exercised by test_mmaction2_config_form.py; here only what this run needs
POSEC3D_FORM = '''default_scope = 'mmaction'
default_hooks = dict(logger=dict(type='LoggerHook', interval=1), checkpoint=dict(type='CheckpointHook', interval=1))
env_cfg = dict(dist_cfg=dict(backend='nccl'))
model = dict(
    type='Recognizer3D',
    backbone=dict(type='ResNet3dSlowOnly', depth=50, pretrained=None, in_channels=17, base_channels=8, num_stages=3,
                  out_indices=(2, ), stage_blocks=(1, 1, 1), conv1_stride_s=1, pool1_stride_s=1, inflate=(0, 1, 1),
                  spatial_strides=(2, 2, 2), temporal_strides=(1, 1, 2), dilations=(1, 1, 1)),
    cls_head=dict(type='I3DHead', in_channels=128, num_classes=2, dropout_ratio=0.5, average_clips='prob'))
dataset_type = 'PoseDataset'
ann_file = ANN_FILE
left_kp = [1, 3, 5, 7, 9, 11, 13, 15]
right_kp = [2, 4, 6, 8, 10, 12, 14, 16]
train_pipeline = [
    dict(type='UniformSampleFrames', clip_len=8),
    dict(type='PoseDecode'),
    dict(type='PoseCompact', hw_ratio=1., allow_imgpad=True),
    dict(type='Resize', scale=(-1, 36)),
    dict(type='RandomResizedCrop', area_range=(0.56, 1.0)),
    dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5, left_kp=left_kp, right_kp=right_kp),
    dict(type='GeneratePoseTarget', sigma=0.6, use_score=True, with_kp=True, with_limb=False),
    dict(type='FormatShape', input_format='NCTHW_Heatmap'),
    dict(type='PackActionInputs')]
test_pipeline = [
    dict(type='UniformSampleFrames', clip_len=8, num_clips=2, test_mode=True),
    dict(type='PoseDecode'),
    dict(type='PoseCompact', hw_ratio=1., allow_imgpad=True),
    dict(type='Resize', scale=(-1, 32)),
    dict(type='CenterCrop', crop_size=32),
    dict(type='GeneratePoseTarget', sigma=0.6, use_score=True, with_kp=True, with_limb=False, double=True,
         left_kp=left_kp, right_kp=right_kp),
    dict(type='FormatShape', input_format='NCTHW_Heatmap'),
    dict(type='PackActionInputs')]
train_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False, sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='RepeatDataset', times=2,
                 dataset=dict(type=dataset_type, ann_file=ann_file, split='xsub_train', pipeline=train_pipeline)))
test_dataloader = dict(
    batch_size=1, num_workers=0, persistent_workers=False, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=ann_file, split='xsub_val', pipeline=test_pipeline, test_mode=True))
test_evaluator = [dict(type='AccMetric', metric_options=dict(top_k_accuracy=dict(topk=(1, ))))]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1)
test_cfg = dict(type='TestLoop')
param_scheduler = [dict(type='CosineAnnealingLR', eta_min=0, T_max=1, by_epoch=True, convert_to_iter_based=True)]
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.2, momentum=0.9, weight_decay=0.0003),
                     clip_grad=dict(max_norm=40, norm_type=2))
'''


def test_posec3d_config_trains_and_tests_on_skeleton_annotations(tmp_path, capsys):
    ann = write_pose_annotations(tmp_path / 'ntu60_2d.pkl', per_class=2, frames=12)
    config = tmp_path / 'slowonly_r50_posec3d_tiny.py'
    config.write_text(POSEC3D_FORM.replace('ANN_FILE', repr(str(ann))))
    work = tmp_path / 'work'
    trained = run('train', capsys, str(config), '--work-dir', str(work))
    assert "running it here with default_scope 'mmaction' -> 'resbackbones'" in trained
    assert 'Epoch(train) [1][2/2]' in trained  # 4 sequences x RepeatDataset(times=2) / batch 4
    ckpt = torch.load(work / 'epoch_1.pth', weights_only=True)
    assert ckpt['state_dict']['backbone.conv1.weight'].shape[1] == 17  # a heatmap channel per COCO joint
    tested = run('test', capsys, str(config), str(work / 'epoch_1.pth'), '--work-dir', str(tmp_path / 'test'))
    metrics = json.loads(tested.strip().splitlines()[-1])
    assert set(metrics) >= {'acc/top1', 'acc/mean1'} and 0 <= metrics['acc/top1'] <= 1
