"""mmaction2's OmniSource form (RecognizerOmni + OmniResNet + OmniHead, MultiLoaderEpochBasedTrainLoop over a video
and an image source, mmcls types, 'MIX2d3d') trains and tests with tools/train.py and tools/test.py, on tiny
real-format videos and images."""
import json
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from resbackbones.engine.cli import run_tool

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: video_fixtures
from video_fixtures import write_labelled_videos  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'engine'))  # tests/engine: load_tool
from tiny import load_tool  # noqa: E402

# The layout of mmaction2's configs/recognition/omnisource/slowonly_r50_8xb16-8x8x1-256e_imagenet-kinetics400-rgb.py
# with tiny widths, sizes and batches (its default runtime as in test_mmaction2_config_form.py, shortened).
OMNISOURCE_FORM = '''default_scope = 'mmaction'
default_hooks = dict(logger=dict(type='LoggerHook', interval=1), checkpoint=dict(type='CheckpointHook', interval=1))
env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend='nccl'))
log_level = 'INFO'
model = dict(
    type='RecognizerOmni',
    backbone=dict(type='OmniResNet', layers=[1, 1, 1, 1], base_channels=8),
    cls_head=dict(type='OmniHead', image_classes=3, video_classes=2, in_channels=256, average_clips='prob'),
    data_preprocessor=dict(type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], format_shape='MIX2d3d'))
video_root = DATA_ROOT
image_root = IMAGE_ROOT
train_pipeline = [
    dict(type='DecordInit'), dict(type='SampleFrames', clip_len=4, frame_interval=2, num_clips=1),
    dict(type='DecordDecode'), dict(type='Resize', scale=(-1, 48)), dict(type='RandomResizedCrop'),
    dict(type='Resize', scale=(32, 32), keep_ratio=False), dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'), dict(type='PackActionInputs')]
test_pipeline = [
    dict(type='DecordInit'), dict(type='SampleFrames', clip_len=4, frame_interval=2, num_clips=2, test_mode=True),
    dict(type='DecordDecode'), dict(type='Resize', scale=(-1, 48)), dict(type='ThreeCrop', crop_size=48),
    dict(type='FormatShape', input_format='NCTHW'), dict(type='PackActionInputs')]
train_dataloader = dict(
    batch_size=2, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='VideoDataset', ann_file=video_root + '/train.txt', data_prefix=dict(video=video_root),
                 pipeline=train_pipeline))
test_dataloader = dict(
    batch_size=1, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='VideoDataset', ann_file=video_root + '/test.txt', data_prefix=dict(video=video_root),
                 pipeline=test_pipeline, test_mode=True))
imagenet_pipeline = [
    dict(type='LoadRGBFromFile'),
    dict(type='mmcls.RandomResizedCrop', scale=32),
    dict(type='mmcls.RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='mmcls.PackClsInputs'),
]
image_dataloader = dict(
    batch_size=3, num_workers=0,
    dataset=dict(type='mmcls.ImageNet', data_root=image_root, ann_file='meta/train.txt', data_prefix='train',
                 pipeline=imagenet_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True))
test_evaluator = dict(type='AccMetric', metric_options=dict(top_k_accuracy=dict(topk=(1,))))
train_cfg = dict(type='MultiLoaderEpochBasedTrainLoop', other_loaders=[image_dataloader], max_epochs=2,
                 val_interval=4)
test_cfg = dict(type='TestLoop')
param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
                        convert_to_iter_based=True)]
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001),
                     clip_grad=dict(max_norm=40, norm_type=2))
'''


def write_image_list(root: Path, images: int) -> Path:
    """``root/train/i.png`` RGB images, labels 0..2 in turn, listed in ``root/meta/train.txt`` (ImageNet's form)."""
    (root / 'train').mkdir(parents=True)
    (root / 'meta').mkdir()
    rng = np.random.default_rng(0)
    for i in range(images):
        Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(root / 'train' / f'{i}.png')
    (root / 'meta' / 'train.txt').write_text(''.join(f'{i}.png {i % 3}\n' for i in range(images)))
    return root


def omnisource_config(tmp_path: Path, images: int) -> Path:
    (tmp_path / 'videos').mkdir()
    videos = write_labelled_videos(tmp_path / 'videos')  # 4 videos: 2 training steps of 2 per epoch
    image_root = write_image_list(tmp_path / 'imagenet', images)
    config = tmp_path / 'omnisource_tiny.py'
    config.write_text(OMNISOURCE_FORM.replace('DATA_ROOT', repr(str(videos))).replace('IMAGE_ROOT',
                                                                                      repr(str(image_root))))
    return config


def test_omnisource_config_trains_on_both_sources_and_tests(tmp_path, capsys):
    config, work = omnisource_config(tmp_path, images=7), tmp_path / 'work'  # 3 image batches >= 2 video ones
    assert run_tool(load_tool('train').main, [str(config), '--work-dir', str(work)], prog='train.py') == 0
    trained = capsys.readouterr().out
    assert "'mmcls.ImageNet' -> 'AnnotationListDataset'" in trained
    logged = [json.loads(line) for line in next(work.glob('*/vis_data/scalars.json')).read_text().splitlines()]
    steps = [entry for entry in logged if 'loss_cls_1' in entry]
    assert len(steps) == 4 and all('loss_cls_0' in e and 'top1_acc_1' in e for e in steps)  # 2 epochs x 2 steps
    state = torch.load(work / 'epoch_2.pth', weights_only=True)['state_dict']
    assert state['cls_head.fc2d.4.weight'].shape == (3, 256) and state['cls_head.fc3d.6.weight'].shape == (2, 4)
    assert run_tool(load_tool('test').main, [str(config), str(work / 'epoch_2.pth'), '--work-dir',
                                             str(tmp_path / 'test')], prog='test.py') == 0
    metrics = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(metrics) >= {'acc/top1', 'acc/mean1'} and metrics['acc/top1'] in (0.0, 0.5, 1.0)


def test_an_image_source_shorter_than_the_videos_is_refused(tmp_path, capsys):
    config = omnisource_config(tmp_path, images=3)  # 1 image batch per epoch against 2 video batches
    assert run_tool(load_tool('train').main, [str(config), '--work-dir', str(tmp_path / 'work')],
                    prog='train.py') == 2
    assert 'train_cfg.other_loaders[0] gives 1 batches per epoch, train_dataloader 2' in capsys.readouterr().err
