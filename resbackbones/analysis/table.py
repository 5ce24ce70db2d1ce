"""The named-model table: size, cost and outputs of every named model, measured from the built models."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch

from ..api import create_model
from ..backbones.named import NAMED_MODELS
from ..models import ImageClassifier
from .complexity import count_gmacs, count_params


@dataclass(frozen=True)
class ModelRow:
    """One named model: backbone params, params and GMACs with a ``num_classes`` fc, output channels/strides."""

    name: str
    backbone_params_m: float
    classifier_params_m: float
    gmacs: float
    channels: tuple[int, ...]
    strides: tuple[int, ...]


def model_table_rows(names: Sequence[str] | None = None, size: tuple[int, int] = (224, 224),
                     num_classes: int = 1000) -> list[ModelRow]:
    """Rows for ``names`` (default: every named model, in table order), counted on the meta device.

    GMACs are those of the classifier (backbone, global pool and ``num_classes`` fc), as the ResNet paper and
    torchvision count them; the backbone alone differs only by the fc's multiply-adds.
    """
    rows = []
    for name in NAMED_MODELS if names is None else names:
        with torch.device('meta'):
            backbone = create_model(name)  # named defaults: every stage is an output
            classifier = ImageClassifier(backbone, num_classes)
        specs = backbone.feature_specs
        rows.append(ModelRow(name, count_params(backbone) / 1e6, count_params(classifier) / 1e6,
                             count_gmacs(classifier, (backbone.in_channels, *size)),
                             tuple(s.channels for s in specs), tuple(s.stride for s in specs)))
    return rows


def markdown_table(rows: Sequence[ModelRow], size: tuple[int, int] = (224, 224), num_classes: int = 1000) -> str:
    """A markdown table of ``rows`` (the one in docs/backbones.md)."""
    lines = [f'| model | params (M), backbone | params (M), with {num_classes}-class fc | '
             f'GMACs at {size[0]}x{size[1]}, with fc | output channels | output strides |',
             '| --- | ---: | ---: | ---: | --- | --- |']
    for r in rows:
        lines.append(f'| {r.name} | {r.backbone_params_m:.2f} | {r.classifier_params_m:.2f} | {r.gmacs:.2f} | '
                     f'{"/".join(map(str, r.channels))} | {"/".join(map(str, r.strides))} |')
    return '\n'.join(lines)
