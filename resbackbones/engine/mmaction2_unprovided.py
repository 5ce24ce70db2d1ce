"""mmaction2 types this project does not build, named with the reason when an mmaction2 config asks for one.

Without this, a config naming e.g. ``X3D`` stops in the registry with "X3D is not in the resbackbones::model
registry", which reads like a typo or a missing import. These are deliberate: networks outside the ResNet family,
and ResNet-family tasks whose data pipelines are not here yet. docs/video.md lists which of mmaction2's configs build.
"""
from __future__ import annotations

from typing import Any

from .typed_dicts import typed_dicts

NOT_RESNET = 'not a ResNet-family network, which is what resbackbones builds'
# mmaction2's scopes for any model of those packages (TSN's custom backbones)
FOREIGN_MODELS = ('torchvision.', 'timm.')
WHY = {
    **{name: f'X3D (inverted bottlenecks, squeeze-excitation, Swish) is {NOT_RESNET}' for name in ('X3D', 'X3DHead')},
    **{name: f'a mobile network (MobileNetV2 / MobileOne) is {NOT_RESNET}'
       for name in ('MobileNetV2', 'MobileNetV2TSM', 'MobileOneTSM')},
    **{name: f'C3D (a plain VGG-style 3D network) is {NOT_RESNET}' for name in ('C3D', 'C3DHead')},
    **{name: f'a vision transformer is {NOT_RESNET}'
       for name in ('MViT', 'MViTHead', 'SwinTransformer3D', 'TimeSformer', 'TimeSformerHead', 'UniFormer',
                    'UniFormerHead', 'UniFormerV2', 'VisionTransformer')},
    **{name: f'a graph convolutional network over skeletons is {NOT_RESNET}'
       for name in ('STGCN', 'AAGCN', 'MSG3D', 'GCNHead', 'RecognizerGCN')},
    **{name: f'a transform of the graph-convolution skeleton pipeline, whose models are {NOT_RESNET}'
       for name in ('PreNormalize2D', 'PreNormalize3D', 'GenSkeFeat', 'JointToBone', 'ToMotion', 'MergeSkeFeat',
                    'PadTo', 'FormatGCNInput')},
    **{name: f'temporal action localization (BMN, BSN, DRN, TCANet over precomputed features) is {NOT_RESNET}'
       for name in ('BMN', 'TEM', 'PEM', 'DRN', 'TCANet')},
    **{name: f'a video-language model (VindLU, CLIP4Clip) is {NOT_RESNET}'
       for name in ('VindLURetrieval', 'VindLUVQA', 'VindLURetrievalMC', 'CLIPSimilarity')},
}


def refuse_unprovided_types(node: Any, source: str) -> None:
    """ValueError naming ``source`` (the config file), the key and a type under ``node`` that WHY lists, and why."""
    for path, _, kind in typed_dicts(node):
        why = WHY.get(kind)
        if kind.startswith(FOREIGN_MODELS):
            why = (f'{kind.split(".")[0]} models by name are not provided: resbackbones builds its own ResNets (a '
                   "torchvision ResNet is type='ResNet' with its weights through init_cfg)")
        if why:
            raise ValueError(f"config {source}, {path}: mmaction2's {kind!r} is not provided here: {why} "
                             "(docs/video.md lists which of mmaction2's configs build)")
