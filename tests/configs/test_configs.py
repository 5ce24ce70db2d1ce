"""Every config loads, leaf configs stay short, no channel count is typed, and each model builds and behaves as
its recipe says (frozen stages, backbone learning rate)."""
import re
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

import resbackbones  # noqa: F401  (registration)
from resbackbones.engine.dist import resolve_backend
from resbackbones.registry import MODELS

CONFIGS = Path(__file__).resolve().parents[2] / 'configs'
ALL = sorted(CONFIGS.rglob('*.py'))
# The classification and transfer leaves (other tasks' configs test their models in their own tests).
LEAVES = [p for p in ALL if p.parts[-2] in ('classification', 'transfer')]
DERIVED_CHANNELS = re.compile(r'(^|_)in_channels$')  # what a head/neck must read from feature_specs


def test_configs_exist():
    names = {p.relative_to(CONFIGS).as_posix() for p in ALL}
    assert {'_base_/default_runtime.py', 'classification/resnet18_digits.py',
            'classification/resnet50_8xb32_in1k.py', 'transfer/resnet50_linear-probe_custom.py',
            'transfer/resnet50_finetune-last2_custom.py', 'transfer/resnet50_finetune-full_custom.py'} <= names
    assert any(p.parts[-2] == 'schedules' for p in ALL) and any(p.parts[-2] == 'datasets' for p in ALL)


@pytest.mark.parametrize('path', ALL, ids=lambda p: p.relative_to(CONFIGS).as_posix())
def test_config_loads(path):
    cfg = Config.fromfile(str(path))
    assert len(cfg.keys()) > 0


@pytest.mark.parametrize('path', LEAVES, ids=lambda p: p.relative_to(CONFIGS).as_posix())
def test_leaf_config_is_short_and_inherits(path):
    code = [line for line in path.read_text().splitlines() if line.strip() and not line.lstrip().startswith('#')]
    assert code[0].startswith('_base_'), 'a leaf config starts from _base_ configs'
    assert len(code) <= 10, f'{path.name} has {len(code)} lines of code; a leaf states only what changes'


def _typed_channels(node, path=''):
    """Paths of '*in_channels' keys under a model config, except backbone.in_channels (the image's channels)."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            where = f'{path}.{key}' if path else key
            if DERIVED_CHANNELS.search(str(key)) and where != 'backbone.in_channels':
                found.append(where)
            found += _typed_channels(value, where)
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            found += _typed_channels(value, f'{path}[{i}]')
    return found


@pytest.mark.parametrize('path', LEAVES, ids=lambda p: p.relative_to(CONFIGS).as_posix())
def test_no_channel_counts_in_model_configs(path):
    assert _typed_channels(Config.fromfile(str(path)).model.to_dict()) == []


def build_model(path, **backbone):
    model_cfg = Config.fromfile(str(path)).model.to_dict()
    model_cfg['backbone'].update(init_cfg=None, base_channels=8, **backbone)  # tiny; no pretrained file needed
    if model_cfg.get('num_classes') is None:
        model_cfg['num_classes'] = 5
    return MODELS.build(model_cfg)


@pytest.mark.parametrize('path', LEAVES, ids=lambda p: p.relative_to(CONFIGS).as_posix())
def test_leaf_model_builds_and_classifies(path):
    model = build_model(path)
    channels = model.backbone.in_channels
    size = 8 if model.backbone.small_stem else 32
    logits = model(torch.zeros(2, channels, size, size), mode='tensor')
    assert logits.shape == (2, model.head.fc.out_features)


def _trainable(module):
    return any(p.requires_grad for p in module.parameters())


@pytest.mark.parametrize('name, frozen, trainable', [
    ('resnet50_linear-probe_custom.py', ['conv1', 'layer1', 'layer2', 'layer3', 'layer4'], []),
    ('resnet50_finetune-last2_custom.py', ['conv1', 'layer1', 'layer2'], ['layer3', 'layer4']),
    ('resnet50_finetune-full_custom.py', [], ['conv1', 'layer1', 'layer2', 'layer3', 'layer4']),
])
def test_transfer_recipes_freeze_what_they_say(name, frozen, trainable):
    model = build_model(CONFIGS / 'transfer' / name).train()
    backbone = model.backbone
    assert [s for s in frozen if _trainable(getattr(backbone, s))] == []
    assert [s for s in trainable if not _trainable(getattr(backbone, s))] == []
    assert _trainable(model.head)
    if name.startswith('resnet50_linear-probe'):  # BN statistics fixed too (norm_eval)
        assert not any(m.training for m in backbone.modules() if isinstance(m, torch.nn.BatchNorm2d))


@pytest.mark.parametrize('name, backbone_mult', [
    ('resnet50_finetune-full_custom.py', 0.1),
    ('resnet50_finetune-last2_custom.py', 1.0),
])
def test_backbone_learning_rate(name, backbone_mult):
    cfg = Config.fromfile(str(CONFIGS / 'transfer' / name))
    model = build_model(CONFIGS / 'transfer' / name)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    base = cfg.optim_wrapper.optimizer.lr
    lr_of = {id(p): g['lr'] for g in wrapper.optimizer.param_groups for p in g['params']}
    assert lr_of[id(model.head.fc.weight)] == pytest.approx(base)
    assert lr_of[id(model.backbone.layer4[0].conv1.weight)] == pytest.approx(base * backbone_mult)


def test_runtime_picks_the_backend_from_the_hardware():
    cfg = Config.fromfile(str(CONFIGS / '_base_' / 'default_runtime.py'))
    assert cfg.default_scope == 'resbackbones' and cfg.runner_type == 'SafeRunner'
    assert cfg.env_cfg.dist_cfg.backend == 'auto'
    assert resolve_backend('auto') == ('nccl' if torch.cuda.is_available() else 'gloo')
    assert {'checkpoint', 'logger', 'param_scheduler'} <= set(cfg.default_hooks)
    assert [b['type'] for b in cfg.vis_backends] == ['LocalVisBackend']
    assert 'TensorboardVisBackend' in (CONFIGS / '_base_' / 'default_runtime.py').read_text()


@pytest.mark.parametrize('name, root', [
    ('classification/resnet18_digits.py', 'data/digits'),
    ('classification/resnet50_8xb32_in1k.py', 'data/imagenet'),
    ('transfer/resnet50_finetune-full_custom.py', 'data/custom'),
])
def test_data_roots(name, root):
    cfg = Config.fromfile(str(CONFIGS / name))
    assert cfg.train_dataloader.dataset.data_root == f'{root}/train'
    assert cfg.val_dataloader.dataset.data_root == f'{root}/val'
    assert cfg.test_dataloader.dataset.data_root == f'{root}/val'
