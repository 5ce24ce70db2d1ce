"""The AVA detection configs: mmaction2's SlowOnly / SlowFast R50 detectors with its parameter counts, pipelines that
turn a keyframe's rawframes and boxes into what the model takes, and a leaf that states only what changes."""
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from resbackbones.registry import MODELS, TRANSFORMS

AVA = Path(__file__).resolve().parents[2] / 'configs' / 'detection' / 'ava'
# mmaction2 1.2's own counts for these configs, built there (81 classes): its whole FastRCNN on mmdet 3.3 (SlowOnly);
# its ResNet3dSlowFast + the 2304 x 81 fc_cls (SlowFast)
LEAVES = {'slowonly_k400-pretrained-r50_8xb16-4x16x1-20e_ava21-rgb.py': (31_800_465, 4),
          'slowfast_k400-pretrained-r50_8xb16-4x16x1-20e_ava21-rgb.py': (33_743_993, 32)}


@pytest.mark.parametrize('leaf', sorted(LEAVES))
def test_ava_config_builds_with_mmaction2s_count_and_its_pipeline_feeds_it(leaf, tmp_path):
    init_default_scope('resbackbones')
    cfg = Config.fromfile(str(AVA / leaf))
    params, frames = LEAVES[leaf]
    model = MODELS.build(cfg.model.to_dict()).eval()
    assert sum(p.numel() for p in model.parameters()) == params
    folder = tmp_path / 'vid'
    folder.mkdir()
    for i in range(1, 91):  # 3 s at 30 fps, from 900 s
        cv2.imwrite(str(folder / f'img_{i:05d}.jpg'), np.full((120, 160, 3), i, np.uint8))
    sample = dict(frame_dir=str(folder), video_id='vid', timestamp=901, img_key='vid,0901', fps=30,
                  timestamp_start=900, timestamp_end=903, shot_info=(0, 90), start_index=1,
                  filename_tmpl='img_{:05}.jpg', modality='RGB', gt_bboxes=np.array([[0.1, 0.2, 0.5, 0.9]]),
                  gt_labels=np.eye(81, dtype=np.float32)[[12]], proposals=np.array([[0.1, 0.2, 0.5, 0.9]]))
    for step in cfg.test_dataloader.dataset.pipeline:
        sample = TRANSFORMS.build(step)(sample)
    assert tuple(sample['inputs'].shape) == (3, frames, 256, 341)
    assert sample['data_samples']['proposals'][0].tolist() == pytest.approx([34.1, 51.2, 170.5, 230.4], rel=1e-5)
    small = sample['inputs'][None, :, :, :64, :64].float()
    with torch.no_grad():
        out = model.predict(small, [dict(sample['data_samples'], proposals=torch.tensor([[4., 4., 40., 60.]]))])
    assert out[0]['pred_instances']['scores'].shape == (1, 81)


def test_slowfast_leaf_states_only_what_changes():
    code = [line for line in (AVA / sorted(LEAVES)[0]).read_text().splitlines() if line.strip()
            and not line.startswith('#')]
    assert code[0].startswith('_base_') and len(code) <= 40


def test_missing_kinetics_checkpoint_is_named_at_initialisation():
    init_default_scope('resbackbones')
    cfg = Config.fromfile(str(AVA / sorted(LEAVES)[1]))
    model = MODELS.build(cfg.model.to_dict())
    with pytest.raises(FileNotFoundError, match='checkpoints/slowonly_r50_4x16x1_kinetics400-rgb.pth'):
        model.init_weights()
