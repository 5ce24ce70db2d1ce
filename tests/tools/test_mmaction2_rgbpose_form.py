"""PoseC3D's RGB + pose config in mmaction2's form (skeleton/posec3d/rgbpose_conv3d: PoseDataset over videos and
skeletons, MMUniformSampleFrames, MMDecode, MMCompact, GeneratePoseTarget beside the frames, PackActionInputs with
collect_keys, MMRecognizer3D + RGBPoseConv3D + RGBPoseHead, MultiModalDataPreprocessor) trains and tests with
tools/train.py and tools/test.py (tiny: base widths 8 and 4, 2 + 8 frames at 32 / 8 px; test with 2 clips)."""
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: pose_fixtures
from pose_fixtures import write_pose_annotations, write_pose_videos  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'engine'))  # tests/engine: tiny
from tiny import run_tool_here as run  # noqa: E402

RGBPOSE_FORM = '''default_scope = 'mmaction'
default_hooks = dict(logger=dict(type='LoggerHook', interval=1), checkpoint=dict(type='CheckpointHook', interval=1))
env_cfg = dict(dist_cfg=dict(backend='nccl'))
backbone_cfg = dict(
    type='RGBPoseConv3D', speed_ratio=4, channel_ratio=4,
    rgb_pathway=dict(num_stages=4, stage_blocks=(1, 1, 1, 1), lateral=True, lateral_infl=1,
                     lateral_activate=[0, 0, 1, 1], fusion_kernel=7, base_channels=8, conv1_kernel=(1, 7, 7),
                     inflate=(0, 0, 1, 1), with_pool2=False),
    pose_pathway=dict(num_stages=3, stage_blocks=(1, 1, 1), lateral=True, lateral_inv=True, lateral_infl=16,
                      lateral_activate=(0, 1, 1), fusion_kernel=7, in_channels=17, base_channels=4, out_indices=(2, ),
                      conv1_kernel=(1, 7, 7), conv1_stride_s=1, conv1_stride_t=1, pool1_stride_s=1, pool1_stride_t=1,
                      inflate=(0, 1, 1), spatial_strides=(2, 2, 2), temporal_strides=(1, 1, 1),
                      dilations=(1, 1, 1), with_pool2=False))
head_cfg = dict(type='RGBPoseHead', num_classes=2, in_channels=[256, 64], loss_components=['rgb', 'pose'],
                loss_weights=[1., 1.], average_clips='prob')
data_preprocessor = dict(
    type='MultiModalDataPreprocessor',
    preprocessors=dict(
        imgs=dict(type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                  format_shape='NCTHW'),
        heatmap_imgs=dict(type='ActionDataPreprocessor')))
model = dict(type='MMRecognizer3D', backbone=backbone_cfg, cls_head=head_cfg, data_preprocessor=data_preprocessor)
dataset_type = 'PoseDataset'
data_root = DATA_ROOT
ann_file = ANN_FILE
left_kp = [1, 3, 5, 7, 9, 11, 13, 15]
right_kp = [2, 4, 6, 8, 10, 12, 14, 16]
train_pipeline = [
    dict(type='MMUniformSampleFrames', clip_len=dict(RGB=2, Pose=8), num_clips=1),
    dict(type='MMDecode'),
    dict(type='MMCompact', hw_ratio=1., allow_imgpad=True),
    dict(type='Resize', scale=(40, 40), keep_ratio=False),
    dict(type='RandomResizedCrop', area_range=(0.56, 1.0)),
    dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5, left_kp=left_kp, right_kp=right_kp),
    dict(type='GeneratePoseTarget', sigma=0.7, use_score=True, with_kp=True, with_limb=False, scaling=0.25),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs', collect_keys=('imgs', 'heatmap_imgs'))]
test_pipeline = [
    dict(type='MMUniformSampleFrames', clip_len=dict(RGB=2, Pose=8), num_clips=2, test_mode=True),
    dict(type='MMDecode'),
    dict(type='MMCompact', hw_ratio=1., allow_imgpad=True),
    dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(type='GeneratePoseTarget', sigma=0.7, use_score=True, with_kp=True, with_limb=False, scaling=0.25),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs', collect_keys=('imgs', 'heatmap_imgs'))]
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False, sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, ann_file=ann_file, data_prefix=dict(video=data_root), split='xsub_train',
                 pipeline=train_pipeline))
test_dataloader = dict(
    batch_size=1, num_workers=0, persistent_workers=False, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=ann_file, split='xsub_val', data_prefix=dict(video=data_root),
                 pipeline=test_pipeline, test_mode=True))
test_evaluator = [dict(type='AccMetric', metric_options=dict(top_k_accuracy=dict(topk=(1, ))))]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1)
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.0075, momentum=0.9, weight_decay=0.0001),
                     clip_grad=dict(max_norm=40, norm_type=2))
param_scheduler = [dict(type='MultiStepLR', begin=0, end=1, by_epoch=True, milestones=[1], gamma=0.1)]
'''


def test_rgbpose_config_trains_and_tests_on_videos_with_skeletons(tmp_path, capsys):
    ann = write_pose_annotations(tmp_path / 'ntu60_2d.pkl', per_class=2, frames=10)
    videos = write_pose_videos(ann, tmp_path / 'nturgbd_videos')
    config = tmp_path / 'rgbpose_conv3d_tiny.py'
    config.write_text(RGBPOSE_FORM.replace('ANN_FILE', repr(str(ann))).replace('DATA_ROOT', repr(f'{videos}/')))
    work = tmp_path / 'work'
    trained = run('train', capsys, str(config), '--work-dir', str(work))
    assert 'Epoch(train) [1][2/2]' in trained  # 4 training videos / batch 2
    assert 'rgb_loss_cls' in trained and 'pose_loss_cls' in trained
    ckpt = torch.load(work / 'epoch_1.pth', weights_only=True)
    assert ckpt['state_dict']['backbone.pose_path.conv1.weight'].shape[1] == 17  # a heatmap per COCO joint
    assert ckpt['state_dict']['backbone.pose_path.layer1_lateral.conv.weight'].shape[:2] == (64, 4)  # inverse lateral
    tested = run('test', capsys, str(config), str(work / 'epoch_1.pth'), '--work-dir', str(tmp_path / 'test'))
    metrics = json.loads(tested.strip().splitlines()[-1])
    expected = {'acc/rgb_top1', 'acc/pose_top1', 'acc/RGBPose_1:1_top1', 'acc/RGBPose_2:1_top1', 'acc/RGBPose_1:2_top1'}
    assert expected <= set(metrics) and all(0 <= metrics[k] <= 1 for k in expected)
