"""The skeleton and audio configs: PoseC3D's (and its RGB + pose network's) and the audio recognizers' models with
mmaction2's parameter counts, pipelines that turn a skeleton sequence (with its video) or a spectrogram into what the
model takes, and leaves that state only what changes."""
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from resbackbones.registry import MODELS, TRANSFORMS

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: pose_fixtures
from pose_fixtures import skeleton, write_pose_annotations, write_pose_videos  # noqa: E402

LEAF = (Path(__file__).resolve().parents[2] / 'configs' / 'skeleton' / 'posec3d'
        / 'slowonly_r50_8xb16-u48-240e_ntu60-xsub-keypoint.py')


def test_posec3d_ntu60_config_builds_runs_and_counts_as_mmaction2():
    init_default_scope('resbackbones')
    cfg = Config.fromfile(str(LEAF))
    model = MODELS.build(cfg.model.to_dict()).eval()
    assert sum(p.numel() for p in model.backbone.parameters()) == 1_994_080  # mmaction2's ResNet3dSlowOnly, built there
    assert sum(p.numel() for p in model.parameters()) == 1_994_080 + 512 * 60 + 60  # + the 60-class fc
    kp, score = skeleton(label=0, frames=70, rng=np.random.default_rng(0))
    sample = dict(keypoint=kp, keypoint_score=score, total_frames=70, img_shape=(120, 160), label=5, start_index=0,
                  modality='Pose', frame_dir='S001C001P001R001A006')
    for step in cfg.test_dataloader.dataset.pipeline:
        sample = TRANSFORMS.build(step)(sample)
    assert tuple(sample['inputs'].shape) == (20, 17, 48, 64, 64)  # 10 clips x 2 flips of 48 frames
    with torch.no_grad():
        scores = model.tensor(sample['inputs'][None, :2])
    assert scores.shape == (1, 60)
    assert cfg.train_dataloader.dataset.type == 'RepeatDataset' and cfg.train_dataloader.dataset.times == 10
    code = [line for line in LEAF.read_text().splitlines() if line.strip() and not line.startswith('#')]
    assert code[0].startswith('_base_') and len(code) <= 12


def test_rgbpose_config_builds_runs_and_counts_as_mmaction2(tmp_path):
    init_default_scope('resbackbones')
    leaf = LEAF.parent / 'rgbpose_conv3d' / 'rgbpose_conv3d.py'
    cfg = Config.fromfile(str(leaf))
    model = MODELS.build(cfg.model.to_dict()).eval()
    assert sum(p.numel() for p in model.backbone.parameters()) == 35_994_208  # mmaction2's RGBPoseConv3D, built there
    assert sum(p.numel() for p in model.parameters()) == 35_994_208 + (2048 + 512) * 60 + 2 * 60  # + fc_rgb, fc_pose
    ann = write_pose_annotations(tmp_path / 'ntu60_2d.pkl', per_class=1, frames=40, splits=('xsub_val',))
    videos = write_pose_videos(ann, tmp_path / 'videos')
    with open(ann, 'rb') as f:
        sample = dict(pickle.load(f)['annotations'][0], start_index=0, modality='Pose')
    sample['frame_dir'] = str(videos / sample['frame_dir'])
    for step in cfg.test_dataloader.dataset.pipeline:
        sample = TRANSFORMS.build(step)(sample)
    shapes = {k: tuple(v.shape) for k, v in sample['inputs'].items()}
    assert shapes == {'imgs': (10, 3, 8, 256, 256), 'heatmap_imgs': (10, 17, 32, 64, 64)}  # 10 clips
    batch = model.data_preprocessor(dict(inputs={k: [v[:1]] for k, v in sample['inputs'].items()},
                                         data_samples=[dict(gt_label=0)]))
    with torch.no_grad():
        scores = model(batch['inputs'], mode='tensor')
    assert {k: tuple(v.shape) for k, v in scores.items()} == {'rgb': (1, 60), 'pose': (1, 60)}
    code = [line for line in leaf.read_text().splitlines() if line.strip() and not line.startswith('#')]
    assert code[0].startswith('_base_') and len(code) <= 12


def test_resnet3d_depth_defaults_to_50_as_mmaction2s():
    """mmaction2's rgbpose_conv3d/pose_only.py builds its ResNet3dSlowOnly without naming a depth."""
    init_default_scope('resbackbones')
    pose_only = dict(type='ResNet3dSlowOnly', in_channels=17, base_channels=32, num_stages=3, out_indices=(2, ),
                     stage_blocks=(4, 6, 3), conv1_stride_s=1, pool1_stride_s=1, inflate=(0, 1, 1),
                     spatial_strides=(2, 2, 2), temporal_strides=(1, 1, 1), dilations=(1, 1, 1))
    assert sum(p.numel() for p in MODELS.build(pose_only).parameters()) == 1_994_080
    assert MODELS.build(dict(type='ResNet3d', base_channels=8)).depth == 50


@pytest.mark.parametrize('leaf, params', [  # mmaction2's recognizers (backbone + TSNAudioHead), built there
    ('resnet/tsn_r18_8xb320-64x1x1-100e_kinetics400-audio-feature.py', 11_375_440),
    ('audioonly/audioonly_r50_8xb160-64x1x1-100e_kinetics400-audio-feature.py', 5_905_728 + 1024 * 400 + 400),
])
def test_audio_config_builds_runs_and_counts_as_mmaction2(tmp_path, leaf, params):
    init_default_scope('resbackbones')
    leaf = LEAF.parents[2] / 'recognition_audio' / leaf
    cfg = Config.fromfile(str(leaf))
    model = MODELS.build(cfg.model.to_dict()).eval()
    assert sum(p.numel() for p in model.parameters()) == params
    np.save(tmp_path / 'v.npy', np.random.default_rng(0).random((700, 80)).astype(np.float32))
    sample = dict(audio_path=str(tmp_path / 'v.npy'), total_frames=250, start_index=0, label=3)
    for step in cfg.test_dataloader.dataset.pipeline:
        sample = TRANSFORMS.build(step)(sample)
    assert tuple(sample['inputs'].shape) == (1, 1, 128, 80)
    with torch.no_grad():
        assert model.tensor(sample['inputs'][None]).shape == (1, 400)
    code = [line for line in leaf.read_text().splitlines() if line.strip() and not line.startswith('#')]
    assert code[0].startswith('_base_') and len(code) <= 12
