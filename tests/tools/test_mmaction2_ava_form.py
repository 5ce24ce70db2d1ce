"""mmaction2's AVA detection config form (detection/slowonly: mmdet's FastRCNN scope, 'mmaction.' types, AVADataset
of rawframes + box csv + label map + proposal pickle, SampleAVAFrames / RawFrameDecode / RandomRescale / RandomCrop /
Flip, AVAMetric) trains and tests with tools/train.py and tools/test.py (tiny: ResNet3dSlowOnly-18 at width 8)."""
import json
import pickle
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'engine'))  # tests/engine: tiny
from tiny import run_tool_here as run  # noqa: E402

MODEL_FORM = '''default_scope = 'mmaction'
default_hooks = dict(logger=dict(type='LoggerHook', interval=1), checkpoint=dict(type='CheckpointHook', interval=1))
model = dict(
    type='FastRCNN',
    _scope_='mmdet',
    backbone=dict(type='mmaction.ResNet3dSlowOnly', depth=18, base_channels=8, pretrained=None, pretrained2d=False,
                  lateral=False, num_stages=4, conv1_kernel=(1, 7, 7), conv1_stride_t=1, pool1_stride_t=1,
                  spatial_strides=(1, 2, 2, 1)),
    roi_head=dict(
        type='AVARoIHead',
        bbox_roi_extractor=dict(type='SingleRoIExtractor3D', roi_layer_type='RoIAlign', output_size=8,
                                with_temporal_pool=True),
        bbox_head=dict(type='BBoxHeadAVA', background_class=True, in_channels=64, num_classes=4, multilabel=True,
                       dropout_ratio=0.5, topk=(1, 2))),
    data_preprocessor=dict(type='mmaction.ActionDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], format_shape='NCTHW'),
    train_cfg=dict(rcnn=dict(assigner=dict(type='MaxIoUAssignerAVA', pos_iou_thr=0.9, neg_iou_thr=0.9,
                                           min_pos_iou=0.9),
                             sampler=dict(type='RandomSampler', num=32, pos_fraction=1, neg_pos_ub=-1,
                                          add_gt_as_proposals=True),
                             pos_weight=1.0)),
    test_cfg=dict(rcnn=None))
'''
AVA_FORM = MODEL_FORM + '''dataset_type = 'AVADataset'
root = ROOT
common = dict(type=dataset_type, exclude_file=f'{root}/excluded.csv', label_file=f'{root}/actions.pbtxt',
              proposal_file=f'{root}/proposals.pkl', data_prefix=dict(img=f'{root}/rawframes'), num_classes=4,
              fps=2, timestamp_start=900, timestamp_end=910)
train_pipeline = [
    dict(type='SampleAVAFrames', clip_len=4, frame_interval=2),
    dict(type='RawFrameDecode', io_backend='disk'),
    dict(type='RandomRescale', scale_range=(64, 80)),
    dict(type='RandomCrop', size=64),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW', collapse=True),
    dict(type='PackActionInputs')]
val_pipeline = [
    dict(type='SampleAVAFrames', clip_len=4, frame_interval=2, test_mode=True),
    dict(type='RawFrameDecode', io_backend='disk'),
    dict(type='Resize', scale=(-1, 64)),
    dict(type='FormatShape', input_format='NCTHW', collapse=True),
    dict(type='PackActionInputs')]
train_dataloader = dict(batch_size=2, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=True),
                        dataset=dict(ann_file=f'{root}/train.csv', pipeline=train_pipeline, **common))
val_dataloader = dict(batch_size=1, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
                      dataset=dict(ann_file=f'{root}/val.csv', pipeline=val_pipeline, test_mode=True, **common))
test_dataloader = val_dataloader
val_evaluator = dict(type='AVAMetric', ann_file=f'{root}/val.csv', label_file=f'{root}/actions.pbtxt',
                     exclude_file=f'{root}/excluded.csv', num_classes=4)
test_evaluator = val_evaluator
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=0.00001),
                     clip_grad=dict(max_norm=40, norm_type=2))
'''
VIDEOS = ('clip_a', 'clip_b')
PEOPLE = {'clip_a': [(0.1, 0.2, 0.45, 0.95), (0.55, 0.1, 0.9, 0.9)], 'clip_b': [(0.3, 0.15, 0.7, 0.95)]}


def _write_ava(root: Path) -> None:
    """Two 20-frame videos (10 s at 2 fps from 900 s) with bright people on dark ground, AVA's files around them."""
    rng = np.random.default_rng(0)
    lines = {'train': [], 'val': []}
    proposals = {}
    for video in VIDEOS:
        folder = root / 'rawframes' / video
        folder.mkdir(parents=True)
        for frame in range(1, 21):
            image = rng.integers(0, 40, (64, 80, 3), dtype=np.uint8)
            for x1, y1, x2, y2 in PEOPLE[video]:
                image[int(y1 * 64):int(y2 * 64), int(x1 * 80):int(x2 * 80)] = 200 + frame % 3 * 20
            cv2.imwrite(str(folder / f'img_{frame:05d}.jpg'), image)
        for second in range(902, 909):
            split = 'train' if second < 907 else 'val'
            for person, box in enumerate(PEOPLE[video]):
                actions = (1, 3) if person == 0 else (2,)
                lines[split] += [f'{video},{second},{",".join(map(str, box))},{a},{person}' for a in actions]
            jitter = np.array(PEOPLE[video]) + rng.normal(0, 0.01, (len(PEOPLE[video]), 4))
            proposals[f'{video},{second:04d}'] = np.hstack([jitter.clip(0, 1), np.full((len(jitter), 1), 0.99)])
    for split, rows in lines.items():
        (root / f'{split}.csv').write_text('\n'.join(rows) + '\n')
    (root / 'excluded.csv').write_text('clip_b,0908\n')
    (root / 'actions.pbtxt').write_text(''.join(f'item {{\n  name: "action {i}"\n  id: {i}\n}}\n' for i in (1, 2, 3)))
    with open(root / 'proposals.pkl', 'wb') as f:
        pickle.dump(proposals, f)


def test_ava_config_trains_validates_and_tests_on_rawframes(tmp_path, capsys):
    _write_ava(tmp_path)
    config = tmp_path / 'slowonly_r18_tiny_ava.py'
    config.write_text(AVA_FORM.replace('ROOT', repr(str(tmp_path))))
    trained = run('train', capsys, str(config), '--work-dir', str(tmp_path / 'work'))
    assert "'mmaction.'/'mmdet.' type scopes dropped" in trained and 'loss_action_cls' in trained
    tested = run('test', capsys, str(config), str(tmp_path / 'work' / 'epoch_1.pth'), '--work-dir',
                 str(tmp_path / 'test'))
    metrics = json.loads(tested.strip().splitlines()[-1])
    assert {'mAP/overall', 'mAP/person_movement'} <= set(metrics) and 0 <= metrics['mAP/overall'] <= 1
