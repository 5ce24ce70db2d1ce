"""mmaction2's MultiSports config form (detection/slowonly ..._multisports-rgb.py: AVADataset on videos with frame
timestamps (fps=1, timestamp_start=1, start_index=0), DecordInit / DecordDecode, a softmax BBoxHeadAVA without the
placeholder class, MultiSportsMetric on a GT pickle) trains and tests through tools/train.py and tools/test.py."""
import json
import pickle
import sys
from pathlib import Path

import numpy as np

from resbackbones.transforms.video.writer import write_video

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'engine'))  # tests/engine: tiny
from test_mmaction2_ava_form import MODEL_FORM  # noqa: E402
from tiny import run_tool_here as run  # noqa: E402

# the AVA form's model with MultiSports' head: softmax over actions counted from 0, no placeholder class
HEAD = ('background_class=True, in_channels=64, num_classes=4, multilabel=True',
        'background_class=False, in_channels=64, num_classes=3, multilabel=False')
MULTISPORTS_FORM = MODEL_FORM.replace(*HEAD) + '''dataset_type = 'AVADataset'
root = ROOT
file_client_args = dict(io_backend='disk')
train_pipeline = [
    dict(type='DecordInit', **file_client_args),
    dict(type='SampleAVAFrames', clip_len=4, frame_interval=2),
    dict(type='DecordDecode'),
    dict(type='RandomRescale', scale_range=(64, 80)),
    dict(type='RandomCrop', size=64),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW', collapse=True),
    dict(type='PackActionInputs')]
val_pipeline = [
    dict(type='DecordInit', **file_client_args),
    dict(type='SampleAVAFrames', clip_len=4, frame_interval=2, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 64)),
    dict(type='FormatShape', input_format='NCTHW', collapse=True),
    dict(type='PackActionInputs')]
common = dict(type=dataset_type, num_classes=3, data_prefix=dict(img=f'{root}/videos'),
              timestamp_start=1, start_index=0, use_frames=False, fps=1)
train_dataloader = dict(batch_size=2, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=True),
                        dataset=dict(ann_file=f'{root}/train.csv', pipeline=train_pipeline,
                                     proposal_file=f'{root}/proposals.pkl', **common))
val_dataloader = dict(batch_size=1, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
                      dataset=dict(ann_file=f'{root}/val.csv', pipeline=val_pipeline,
                                   proposal_file=f'{root}/proposals.pkl', test_mode=True, **common))
test_dataloader = val_dataloader
val_evaluator = dict(type='MultiSportsMetric', ann_file=f'{root}/multisports_GT.pkl')
test_evaluator = val_evaluator
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=0.00001),
                     clip_grad=dict(max_norm=40, norm_type=2))
'''
VIDEOS = {'vid_a': ((0.1, 0.2, 0.45, 0.95), 0), 'vid_b': ((0.3, 0.15, 0.7, 0.95), 2)}  # one player each, its action
HEIGHT, WIDTH, FRAMES = 64, 80, 24


def _write_multisports(root: Path) -> None:
    """Two 24-frame videos with one bright player each; MultiSports' csv (frame timestamps, action ids from 0), the
    proposal pickle and the GT pickle of tubes in pixels."""
    rng = np.random.default_rng(0)
    (root / 'videos').mkdir()
    lines = {'train': [], 'val': []}
    proposals, tubes = {}, {}
    for video, (box, action) in VIDEOS.items():
        frames = rng.integers(0, 40, (FRAMES, HEIGHT, WIDTH, 3), dtype=np.uint8)
        x1, y1, x2, y2 = (int(box[0] * WIDTH), int(box[1] * HEIGHT), int(box[2] * WIDTH), int(box[3] * HEIGHT))
        frames[:, y1:y2, x1:x2] = 220
        write_video(root / 'videos' / f'{video}.mp4', frames)
        for frame in range(4, 21, 2):
            split = 'train' if frame < 16 else 'val'
            lines[split].append(f'{video}.mp4,{frame},{",".join(map(str, box))},{action},0')
            proposals[f'{video}.mp4,{frame:04d}'] = np.array([[*np.clip(np.array(box) + rng.normal(0, 0.01, 4), 0, 1),
                                                               0.99]])
        tube = np.array([[f, *(np.array(box) * [WIDTH, HEIGHT, WIDTH, HEIGHT])] for f in range(16, 21, 2)])
        tubes[video] = {action: [tube]}
    for split, rows in lines.items():
        (root / f'{split}.csv').write_text('\n'.join(rows) + '\n')
    with open(root / 'proposals.pkl', 'wb') as f:
        pickle.dump(proposals, f)
    gt = dict(labels=['kick', 'jump', 'pass'], test_videos=[list(VIDEOS)], train_videos=[list(VIDEOS)],
              nframes={v: FRAMES for v in VIDEOS}, resolution={v: (HEIGHT, WIDTH) for v in VIDEOS}, gttubes=tubes)
    with open(root / 'multisports_GT.pkl', 'wb') as f:
        pickle.dump(gt, f)


def test_multisports_config_trains_and_tests_on_videos(tmp_path, capsys):
    assert HEAD[0] in MODEL_FORM  # the head really is MultiSports'
    _write_multisports(tmp_path)
    config = tmp_path / 'slowonly_r18_tiny_multisports.py'
    config.write_text(MULTISPORTS_FORM.replace('ROOT', repr(str(tmp_path))))
    trained = run('train', capsys, str(config), '--work-dir', str(tmp_path / 'work'))
    assert 'loss_action_cls' in trained
    tested = run('test', capsys, str(config), str(tmp_path / 'work' / 'epoch_1.pth'), '--work-dir',
                 str(tmp_path / 'test'))
    metrics = json.loads(tested.strip().splitlines()[-1])
    assert {'mAP/frameAP', 'mAP/v_map@0.2', 'mAP/v_map@0.5'} <= set(metrics)
    assert all(0 <= metrics[k] <= 100 for k in ('mAP/frameAP', 'mAP/v_map@0.5'))  # percentages, as mmaction2
