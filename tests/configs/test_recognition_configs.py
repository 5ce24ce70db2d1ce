"""The recognition configs: mmaction2's models (parameter counts of its metafiles), pipelines that run, no typed
channel counts, and leaves that state only what changes."""
from pathlib import Path

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

from resbackbones.registry import MODELS, TRANSFORMS
from resbackbones.transforms.video.writer import index_frames, write_video

CONFIGS = Path(__file__).resolve().parents[2] / 'configs' / 'recognition'
PARAMS = {  # mmaction2's metafiles: 28.04M, 32.45M, 24.33M, 24.33M, 63.8M, 34.5M (101 classes, not 400, for UCF-101)
    'i3d/i3d_imagenet-pretrained-r50_8xb8-32x2x1-100e_kinetics400-rgb.py': 28_043_472,
    'slowonly/slowonly_imagenet-pretrained-r50_8xb16-8x8x1-steplr-150e_kinetics400-rgb.py': 32_454_096,
    'tsn/tsn_imagenet-pretrained-r50_8xb32-1x1x8-100e_kinetics400-rgb.py': 24_327_632,
    'tsn/tsn_imagenet-pretrained-r50_8xb32-1x1x8-100e_ucf101-split1-rgb.py': 24_327_632 - 299 * 2049,
    'tsm/tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_kinetics400-rgb.py': 24_327_632,
    'tsm/tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_ucf101-split1-rgb.py': 24_327_632 - 299 * 2049,
    'r2plus1d/r2plus1d_r34_8xb8-8x8x1-180e_kinetics400-rgb.py': 63_759_281,  # mmaction2's, counted layer by layer
    'slowfast/slowfast_r50_8xb8-4x16x1-256e_kinetics400-rgb.py': 34_479_288,  # metafile 34.5M; counted on mmaction2's
    'tpn/tpn-slowonly_imagenet-pretrained-r50_8xb8-8x8x1-150e_kinetics400-rgb.py': 91_498_336,  # metafile
    'tanet/tanet_imagenet-pretrained-r50_8xb8-dense-1x1x8-100e_kinetics400-rgb.py': 25_590_320,  # metafile 25.6M
    'tanet/tanet_imagenet-pretrained-r50_8xb8-1x1x8-50e_sthv1-rgb.py': 25_590_320 - 226 * 2049,  # 174 classes
    'tpn/tpn-tsm_imagenet-pretrained-r50_8xb8-1x1x8-150e_sthv1-rgb.py': 82_445_724,  # metafile (mmaction2's own too)
    # TSN's 24.33M with a 10-channel stem (7 more input channels of 64 7x7 kernels)
    'tsn/tsn_imagenet-pretrained-r50_8xb32-5x1x3-110e_kinetics400-flow.py': 24_327_632 + 64 * 7 * 7 * 7,
}


@pytest.mark.parametrize('name', sorted(PARAMS))
def test_model_and_pipelines_build(name):
    init_default_scope('resbackbones')
    cfg = Config.fromfile(str(CONFIGS / name))
    model_cfg = cfg.model.to_dict()
    model_cfg['backbone'].pop('init_cfg', None)  # no ImageNet file needed here
    model = MODELS.build(model_cfg)
    assert sum(p.numel() for p in model.parameters()) == PARAMS[name]
    derived = {**model_cfg, 'backbone': {k: v for k, v in model_cfg['backbone'].items() if k != 'in_channels'}}
    assert 'in_channels' not in str(derived)  # only the input's channels (flow: 10) are written; widths derive
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert cfg[loader].dataset.type == ('RawframeDataset' if name.endswith(('-flow.py', 'sthv1-rgb.py'))
                                            else 'VideoDataset')
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


# mmaction2 v1.x's configs/_base_/models files, key for key (only the pretrained URLs set to None: no download
# here). Its users bring these unchanged; each must build the model its metafile counts.
_NORM = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])
_I3D_HEAD = dict(type='I3DHead', num_classes=400, in_channels=2048, spatial_type='avg', dropout_ratio=0.5,
                 init_std=0.01, average_clips='prob')
MMACTION2_MODELS = {
    'i3d_r50': (dict(
        type='Recognizer3D',
        backbone=dict(type='ResNet3d', pretrained2d=True, pretrained=None, depth=50, conv1_kernel=(5, 7, 7),
                      conv1_stride_t=2, pool1_stride_t=2, conv_cfg=dict(type='Conv3d'), norm_eval=False,
                      inflate=((1, 1, 1), (1, 0, 1, 0), (1, 0, 1, 0, 1, 0), (0, 1, 0)), zero_init_residual=False),
        cls_head=_I3D_HEAD, data_preprocessor=dict(type='ActionDataPreprocessor', **_NORM, format_shape='NCTHW')),
     28_043_472),
    'slowonly_r50': (dict(
        type='Recognizer3D',
        backbone=dict(type='ResNet3dSlowOnly', depth=50, pretrained=None, lateral=False, conv1_kernel=(1, 7, 7),
                      conv1_stride_t=1, pool1_stride_t=1, inflate=(0, 0, 1, 1), norm_eval=False),
        cls_head={k: v for k, v in _I3D_HEAD.items() if k != 'init_std'},
        data_preprocessor=dict(type='ActionDataPreprocessor', **_NORM, format_shape='NCTHW')), 32_454_096),
    'tsn_r50': (dict(
        type='Recognizer2D',
        backbone=dict(type='ResNet', pretrained=None, depth=50, norm_eval=False),
        cls_head=dict(type='TSNHead', num_classes=400, in_channels=2048, spatial_type='avg',
                      consensus=dict(type='AvgConsensus', dim=1), dropout_ratio=0.4, init_std=0.01,
                      average_clips='prob'),
        data_preprocessor=dict(type='ActionDataPreprocessor', **_NORM, format_shape='NCHW'),
        train_cfg=None, test_cfg=None), 24_327_632),
    'tsm_r50': (dict(
        type='Recognizer2D',
        backbone=dict(type='ResNetTSM', pretrained=None, depth=50, norm_eval=False, shift_div=8),
        cls_head=dict(type='TSMHead', num_classes=400, in_channels=2048, spatial_type='avg',
                      consensus=dict(type='AvgConsensus', dim=1), dropout_ratio=0.5, init_std=0.001, is_shift=True,
                      average_clips='prob'),
        data_preprocessor=dict(type='ActionDataPreprocessor', **_NORM), train_cfg=None, test_cfg=None), 24_327_632),
    'tin_r50': (dict(
        type='Recognizer2D',
        backbone=dict(type='ResNetTIN', pretrained=None, depth=50, norm_eval=False, shift_div=4),
        cls_head=dict(type='TSMHead', num_classes=400, in_channels=2048, spatial_type='avg',
                      consensus=dict(type='AvgConsensus', dim=1), dropout_ratio=0.5, init_std=0.001, is_shift=False,
                      average_clips='prob'),
        data_preprocessor=dict(type='ActionDataPreprocessor', **_NORM, format_shape='NCHW'),
        train_cfg=None, test_cfg=None), 24_358_640),  # metafile
    'c2d_r50': (dict(
        type='Recognizer3D',
        backbone=dict(type='C2D', depth=50, pretrained=None, norm_eval=False),
        cls_head=_I3D_HEAD, data_preprocessor=dict(type='ActionDataPreprocessor', **_NORM, format_shape='NCTHW')),
        24_327_632),  # metafile: 24.3M
    'trn_r50': (dict(
        type='Recognizer2D',
        backbone=dict(type='ResNet', pretrained=None, depth=50, norm_eval=False, partial_bn=True),
        cls_head=dict(type='TRNHead', num_classes=400, in_channels=2048, num_segments=8, spatial_type='avg',
                      relation_type='TRNMultiScale', hidden_dim=256, dropout_ratio=0.8, init_std=0.001,
                      average_clips='prob'),
        data_preprocessor=dict(type='ActionDataPreprocessor', **_NORM, format_shape='NCHW')),
        27_047_728),  # no metafile count: counted on mmaction2 1.2's own TRNHead + ResNet-50
    'ircsn_r152': (dict(
        type='Recognizer3D',
        backbone=dict(type='ResNet3dCSN', pretrained2d=False, pretrained=None, depth=152, with_pool2=False,
                      bottleneck_mode='ir', norm_eval=False, zero_init_residual=False),
        cls_head=dict(_I3D_HEAD, in_channels=2048),
        data_preprocessor=dict(type='ActionDataPreprocessor', **_NORM, format_shape='NCTHW'),
        train_cfg=None, test_cfg=dict(max_testing_views=10)), 29_703_568),  # metafile: 29.70M
    'slowfast_r50': (dict(
        type='Recognizer3D',
        backbone=dict(type='ResNet3dSlowFast', pretrained=None, resample_rate=8, speed_ratio=8, channel_ratio=8,
                      slow_pathway=dict(type='resnet3d', depth=50, pretrained=None, lateral=True,
                                        conv1_kernel=(1, 7, 7), dilations=(1, 1, 1, 1), conv1_stride_t=1,
                                        pool1_stride_t=1, inflate=(0, 0, 1, 1), norm_eval=False),
                      fast_pathway=dict(type='resnet3d', depth=50, pretrained=None, lateral=False, base_channels=8,
                                        conv1_kernel=(5, 7, 7), conv1_stride_t=1, pool1_stride_t=1,
                                        norm_eval=False)),
        cls_head=dict(type='SlowFastHead', in_channels=2304, num_classes=400, spatial_type='avg', dropout_ratio=0.5,
                      average_clips='prob'),
        data_preprocessor=dict(type='ActionDataPreprocessor', **_NORM, format_shape='NCTHW')),
        34_479_288),  # metafile: 34.5M (34,479,288 counted on mmaction2 1.2's own modules)
    'tpn_slowonly_r50': (dict(
        type='Recognizer3D',
        backbone=dict(type='ResNet3dSlowOnly', depth=50, pretrained=None, lateral=False, out_indices=(2, 3),
                      conv1_kernel=(1, 7, 7), conv1_stride_t=1, pool1_stride_t=1, inflate=(0, 0, 1, 1),
                      norm_eval=False),
        neck=dict(type='TPN', in_channels=(1024, 2048), out_channels=1024,
                  spatial_modulation_cfg=dict(in_channels=(1024, 2048), out_channels=2048),
                  temporal_modulation_cfg=dict(downsample_scales=(8, 8)), upsample_cfg=dict(scale_factor=(1, 1, 1)),
                  downsample_cfg=dict(downsample_scale=(1, 1, 1)),
                  level_fusion_cfg=dict(in_channels=(1024, 1024), mid_channels=(1024, 1024), out_channels=2048,
                                        downsample_scales=((1, 1, 1), (1, 1, 1))),
                  aux_head_cfg=dict(out_channels=400, loss_weight=0.5)),
        cls_head=dict(type='TPNHead', num_classes=400, in_channels=2048, spatial_type='avg',
                      consensus=dict(type='AvgConsensus', dim=1), dropout_ratio=0.5, init_std=0.01,
                      average_clips='prob'),
        data_preprocessor=dict(type='ActionDataPreprocessor', **_NORM, format_shape='NCTHW'),
        train_cfg=None, test_cfg=dict(fcn_test=True)), 91_498_336),  # metafile
    'tanet_r50': (dict(
        type='Recognizer2D',
        data_preprocessor=dict(type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.5],
                               std=[58.395, 57.12, 57.375], format_shape='NCHW'),
        backbone=dict(type='TANet', pretrained=None, depth=50, num_segments=8, tam_cfg=None),
        cls_head=dict(type='TSMHead', num_classes=400, in_channels=2048, spatial_type='avg',
                      consensus=dict(type='AvgConsensus', dim=1), dropout_ratio=0.5, init_std=0.001,
                      average_clips='prob')), 25_590_320),  # metafile: 25.6M (counted on mmaction2 1.2's TANet)
    'r2plus1d_r34': (dict(
        type='Recognizer3D',
        backbone=dict(type='ResNet2Plus1d', depth=34, pretrained=None, pretrained2d=False, norm_eval=False,
                      conv_cfg=dict(type='Conv2plus1d'), norm_cfg=dict(type='SyncBN', requires_grad=True, eps=1e-3),
                      conv1_kernel=(3, 7, 7), conv1_stride_t=1, pool1_stride_t=1, inflate=(1, 1, 1, 1),
                      spatial_strides=(1, 2, 2, 2), temporal_strides=(1, 2, 2, 2), zero_init_residual=False),
        cls_head=dict(type='I3DHead', num_classes=400, in_channels=512, spatial_type='avg', dropout_ratio=0.5,
                      init_std=0.01, average_clips='prob'),
        data_preprocessor=dict(type='ActionDataPreprocessor', **_NORM, format_shape='NCTHW')), 63_759_281),
    'omnisource_r50': (dict(  # the model of configs/recognition/omnisource's only leaf (it has no _base_ model)
        type='RecognizerOmni',
        backbone=dict(type='OmniResNet'),
        cls_head=dict(type='OmniHead', image_classes=1000, video_classes=400, in_channels=2048,
                      average_clips='prob'),
        data_preprocessor=dict(type='ActionDataPreprocessor', **_NORM, format_shape='MIX2d3d')),
        35_648_792),  # counted on mmaction2 1.2's own OmniResNet + OmniHead (its metafile gives no count)
}


@pytest.mark.parametrize('ours, theirs', [('tanet_r50', 'tanet_r50'), ('slowfast_r50', 'slowfast_r50'),
                                          ('tpn_slowonly_r50', 'tpn_slowonly_r50')])
def test_our_base_models_have_mmaction2s_parameter_counts(ours, theirs):
    model_cfg = Config.fromfile(str(CONFIGS.parent / f'_base_/models/{ours}.py')).model.to_dict()
    model_cfg['backbone'].pop('init_cfg', None)  # no ImageNet file needed here
    assert sum(p.numel() for p in MODELS.build(model_cfg).parameters()) == MMACTION2_MODELS[theirs][1]


def test_our_csn_base_model_is_mmaction2s_ircsn_r152():
    model = MODELS.build(Config.fromfile(str(CONFIGS.parent / '_base_/models/ircsn_r152.py')).model.to_dict())
    assert sum(p.numel() for p in model.parameters()) == MMACTION2_MODELS['ircsn_r152'][1]
    assert model.max_testing_views == 10


@pytest.mark.parametrize('name', sorted(MMACTION2_MODELS))
def test_mmaction2s_own_model_configs_build_unchanged(name):
    model_cfg, params = MMACTION2_MODELS[name]
    model = MODELS.build(model_cfg)
    assert sum(p.numel() for p in model.parameters()) == params  # mmaction2's metafile
