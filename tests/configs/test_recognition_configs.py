"""The recognition configs: mmaction2's models (parameter counts of its metafiles), pipelines that run, no typed
channel counts, and leaves that state only what changes."""
from pathlib import Path

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

from resbackbones.registry import MODELS, TRANSFORMS
from resbackbones.transforms.video.writer import index_frames, write_video

CONFIGS = Path(__file__).resolve().parents[2] / 'configs' / 'recognition'
PARAMS = {  # mmaction2's metafiles: 28.04M, 32.45M, 24.33M, 24.33M, 63.8M (101 classes instead of 400 for UCF-101)
    'i3d/i3d_imagenet-pretrained-r50_8xb8-32x2x1-100e_kinetics400-rgb.py': 28_043_472,
    'slowonly/slowonly_imagenet-pretrained-r50_8xb16-8x8x1-steplr-150e_kinetics400-rgb.py': 32_454_096,
    'tsn/tsn_imagenet-pretrained-r50_8xb32-1x1x8-100e_kinetics400-rgb.py': 24_327_632,
    'tsn/tsn_imagenet-pretrained-r50_8xb32-1x1x8-100e_ucf101-split1-rgb.py': 24_327_632 - 299 * 2049,
    'tsm/tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_kinetics400-rgb.py': 24_327_632,
    'tsm/tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_ucf101-split1-rgb.py': 24_327_632 - 299 * 2049,
    'r2plus1d/r2plus1d_r34_8xb8-8x8x1-180e_kinetics400-rgb.py': 63_759_281,  # mmaction2's, counted layer by layer
}


@pytest.mark.parametrize('name', sorted(PARAMS))
def test_model_and_pipelines_build(name):
    init_default_scope('resbackbones')
    cfg = Config.fromfile(str(CONFIGS / name))
    model_cfg = cfg.model.to_dict()
    model_cfg['backbone'].pop('init_cfg', None)  # no ImageNet file needed here
    model = MODELS.build(model_cfg)
    assert sum(p.numel() for p in model.parameters()) == PARAMS[name]
    assert 'in_channels' not in str(model_cfg)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert cfg[loader].dataset.type == 'VideoDataset'
        [TRANSFORMS.build(t) for t in cfg[loader].dataset.pipeline]
    code = [line for line in (CONFIGS / name).read_text().splitlines() if line.strip() and not line.startswith('#')]
    assert code[0].startswith('_base_') and len(code) <= 12


def test_i3d_validation_pipeline_runs_on_a_video(tmp_path):
    cfg = Config.fromfile(str(CONFIGS / 'i3d/i3d_imagenet-pretrained-r50_8xb8-32x2x1-100e_kinetics400-rgb.py'))
    write_video(tmp_path / 'v.mp4', index_frames(50, 48, 64))
    results = dict(filename=str(tmp_path / 'v.mp4'), start_index=0, label=3)
    for t in cfg.val_dataloader.dataset.pipeline:
        results = TRANSFORMS.build(t)(results)
    assert results['inputs'].shape == (1, 3, 32, 224, 224) and results['data_samples']['gt_label'] == 3
