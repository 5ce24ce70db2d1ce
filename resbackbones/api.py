"""The Python entry points: ``create_model`` and ``list_models``."""
from __future__ import annotations

from torch import nn

from .backbones.named import list_models, model_config
from .registry import MODELS

__all__ = ['create_model', 'list_models']


def create_model(name: str, pretrained: str | None = None, num_classes: int | None = None,
                 source: str | None = None, strict: bool = False, **overrides) -> nn.Module:
    """Build a named model, optionally with a classifier and pretrained weights.

    Args:
        name: one of ``list_models()``, e.g. 'resnet50', 'resnext50_32x4d'.
        pretrained: path of a local checkpoint (torchvision, timm, mmpretrain or mmdet format, detected
            automatically unless ``source`` names it); None or False: random weights (True is refused: nothing
            is downloaded).
        num_classes: when given, returns an ImageClassifier (backbone + global pool + linear ``head.fc``) whose
            logits match torchvision's ``fc``; otherwise the backbone, which returns a tuple of features.
        source: 'torchvision' | 'timm' | 'mmpretrain' | 'mmdet' | 'native' to skip format detection.
        strict: also raise when a backbone key is missing or unexpected (the model is then left untouched); the
            classifier head stays lenient, so a checkpoint with another num_classes still fine-tunes.
        overrides: backbone arguments (out_indices, in_channels, frozen_stages, ...).
    """
    if 'init_cfg' in overrides:  # only init_weights() reads it, which create_model never calls: random weights
        raise ValueError(f"create_model({name!r}): init_cfg is for configs (the runner calls init_weights); give the "
                         f"checkpoint as pretrained='PATH'")
    if isinstance(pretrained, str) and not pretrained.strip():
        raise ValueError(f"create_model({name!r}): pretrained is an empty string; give a checkpoint path or None")
    cfg = model_config(name, **overrides)
    if num_classes is None:
        model = MODELS.build(cfg)
    else:
        cfg.setdefault('out_indices', (cfg.get('num_stages', 4) - 1,))
        model = MODELS.build(dict(type='ImageClassifier', backbone=cfg, num_classes=num_classes))
    if pretrained is True:  # timm's and torchvision's habit: their hubs download, this library never does
        raise ValueError(f'create_model({name!r}, pretrained=True): give the path of a local checkpoint '
                         f'(torchvision, timm, mmpretrain or mmdet format); nothing is downloaded')
    if pretrained is not None and pretrained is not False:
        from .weights import load_pretrained
        load_pretrained(model, pretrained, source=source, strict=strict)
    return model
