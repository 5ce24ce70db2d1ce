"""Checkpoint formats: detect which one a state dict is in, and split it into backbone, head and other keys.

Each source is a layout: where the backbone keys live (flat, or under ``backbone.``), what the linear classifier
is called (``fc.`` or ``head.fc.``; ours is the model's ``head.fc``) and, for heads with more than a classifier
(mmaction2's TRN relation MLPs), where those parts go under the model's ``head.``. Renames inside the backbone
(timm's deep stem, avg-down shortcuts, mmdet's ``gn1``) are structural and live in ``align.py``; they apply whatever
the source, guided by the target's keys.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping

import torch

from .io import Checkpoint

SOURCES = ('torchvision', 'torchvision_detection', 'torchvision_video', 'timm', 'mmpretrain', 'mmdet', 'mmaction2',
           'insightface', 'medicalnet', 'native')
ALIASES = {'mmcls': 'mmpretrain', 'pytorch': 'torchvision'}
BACKBONE_PREFIX = 'backbone.'
CLASSIFIER_HEAD = 'head.fc.'  # ours and mmpretrain's linear classifier
TV_DETECTION_PREFIX = 'backbone.body.'  # torchvision's *rcnn_*_fpn: the ResNet inside BackboneWithFPN
# Top-level modules of a detector or segmentor (mmdet/mmseg) that are not the backbone.
DETECTOR_PARTS = ('neck.', 'rpn_head.', 'roi_head.', 'bbox_head.', 'mask_head.', 'decode_head.', 'auxiliary_head.')
_MMDET_NORM = re.compile(r'(^|\.)gn\d+\.')


@dataclass(frozen=True)
class Layout:
    """Where a source keeps its backbone (``prefix``, '' for flat keys), its linear classifier (``heads``), other
    head modules (``head_parts``: checkpoint prefix -> prefix under the model's ``head.``) and modules between the
    two (``model_parts``: checkpoint prefixes kept as the model's keys, e.g. mmaction2's ``neck.``)."""

    prefix: str
    heads: tuple[str, ...]
    head_parts: tuple[tuple[str, str], ...] = ()
    model_parts: tuple[str, ...] = ()
    elsewhere: tuple[str, ...] = ()  # prefixes of parts that are neither backbone nor classifier
    elsewhere_is: str = ''  # what those parts are, for the report


LAYOUTS = {
    'torchvision': Layout('', ('fc.',)),
    'torchvision_detection': Layout(TV_DETECTION_PREFIX, ()),
    'torchvision_video': Layout('', ('fc.',)),  # VideoResNet: block and stem names converted in torchvision_video.py
    'timm': Layout('', ('fc.',)),
    'mmpretrain': Layout(BACKBONE_PREFIX, (CLASSIFIER_HEAD,), model_parts=('neck.',)),
    'mmdet': Layout(BACKBONE_PREFIX, ()),
    # TPN's neck; OmniHead's and RGBPoseHead's classifiers; AVA detectors' RoI head (FastRCNN: backbone + roi_head)
    'mmaction2': Layout(BACKBONE_PREFIX, ('cls_head.fc_cls.',), head_parts=(('cls_head.consensus.', 'consensus.'),),
                        model_parts=('neck.', 'cls_head.fc2d.', 'cls_head.fc3d.', 'cls_head.fc_rgb.',
                                     'cls_head.fc_pose.', 'roi_head.')),
    'insightface': Layout('', (), elsewhere=('bn2.', 'dropout.', 'fc.', 'features.'),
                          elsewhere_is='face embedding head'),
    # Tencent MedicalNet (Med3D) 3D ResNets: torchvision names in 3D ('module.' stripped on reading), and its
    # segmentation head 'conv_seg' (transposed conv + convs), which a U-Net replaces by its own decoder.
    'medicalnet': Layout('', (), elsewhere=('conv_seg.',), elsewhere_is='MedicalNet segmentation head'),
}
MEDICALNET_HEAD = 'conv_seg.'


@dataclass
class Split:
    """A checkpoint cut into backbone tensors, classifier tensors ('weight'/'bias') and keys that go nowhere."""

    backbone: dict[str, torch.Tensor] = field(default_factory=dict)
    head: dict[str, torch.Tensor] = field(default_factory=dict)  # keyed under the model's ``head.`` ('fc.weight')
    origin: dict[str, str] = field(default_factory=dict)  # backbone key -> key in the checkpoint
    head_origin: dict[str, str] = field(default_factory=dict)
    parts: dict[str, torch.Tensor] = field(default_factory=dict)  # model_parts' tensors, keyed as in the model
    ignored: list[tuple[str, str]] = field(default_factory=list)  # (checkpoint key, why)


def check_source(source: str) -> str:
    """The canonical name of ``source``; ValueError naming the choices otherwise."""
    name = ALIASES.get(source, source)
    if name not in SOURCES:
        raise ValueError(f'source must be one of {SOURCES} (or None to detect it); got {source!r}')
    return name


def detect_source(ckpt: Checkpoint) -> tuple[str, str]:
    """(source, the evidence) from key patterns and the container's meta; 'native' when nothing else fits."""
    keys, meta = list(ckpt.state), ckpt.meta
    if 'prelu.weight' in ckpt.state and 'features.running_var' in ckpt.state:
        return 'insightface', "IResNet keys: stem 'prelu', embedding 'features'"
    if _is_torchvision_video(ckpt.state):
        return 'torchvision_video', "VideoResNet keys: 3D 'stem.0', block norms at 'convK.1'"
    if any(k.startswith(TV_DETECTION_PREFIX) for k in keys):
        return 'torchvision_detection', f"'{TV_DETECTION_PREFIX}' keys (a torchvision detection model)"
    if any(k.startswith('cls_head.') for k in keys) or 'mmaction2_version' in meta or 'mmaction_version' in meta:
        return 'mmaction2', "recognizer keys ('cls_head.') or meta['mmaction2_version']"  # before 'neck.': TPN
    if _is_ava_detector(keys):
        return 'mmaction2', "spatio-temporal detector keys ('roi_head.bbox_head.fc_cls', no RPN, no box regression)"
    detector = sorted({k.split('.', 1)[0] for k in keys if k.startswith(DETECTOR_PARTS)})
    if detector == ['neck'] and any(k.startswith(CLASSIFIER_HEAD) for k in keys):
        detector = []  # a classifier or recognizer with a neck (ours, mmpretrain's): its 'head.fc' is no detector's
    if detector:
        return 'mmdet', f'detector keys ({", ".join(detector)})'
    if 'mmdet_version' in meta:
        return 'mmdet', "meta['mmdet_version']"
    if any(k.startswith(MEDICALNET_HEAD) for k in keys):
        return 'medicalnet', f"'{MEDICALNET_HEAD}' keys (MedicalNet's segmentation head)"
    wrapped = any(k.startswith(BACKBONE_PREFIX) for k in keys)
    if wrapped and any(_MMDET_NORM.search(k) for k in keys):
        return 'mmdet', "mmdet norm names ('gn1' ...)"
    if wrapped:
        if any(k in meta for k in ('mmcls_version', 'mmpretrain_version')):
            return 'mmpretrain', 'meta version key'
        if ckpt.container == 'state_dict' and meta:
            return 'mmpretrain', "'backbone.' keys in an mmengine {'state_dict', 'meta'} container"
        return 'native', "'backbone.' keys without a container"
    if 'conv1.0.weight' in ckpt.state:
        return 'timm', "deep stem as 'conv1.0/1/3/4/6' + 'bn1'"
    if 'fc.weight' in ckpt.state and 'conv1.weight' in ckpt.state:
        return 'torchvision', "flat 'conv1', 'layerN', 'fc' keys"
    return 'native', 'flat keys without a classifier'


def _is_ava_detector(keys: list[str]) -> bool:
    """mmaction2's AVA FastRCNN: an action classifier on RoIs, without mmdet's RPN or box regression."""
    return any(k.startswith('roi_head.bbox_head.fc_cls') for k in keys) and not any(
        k.startswith(('rpn_head.', 'roi_head.bbox_head.fc_reg', 'neck.')) for k in keys)


def _is_torchvision_video(state: Mapping[str, torch.Tensor]) -> bool:
    """torchvision's VideoResNet: a 3D ``stem.0`` and block norms at ``convK.1`` (ours: ``bnK``)."""
    stem = state.get('stem.0.weight')
    return stem is not None and stem.dim() == 5 and 'layer1.0.conv1.1.running_var' in state \
        and 'layer1.0.bn1.running_var' not in state


def _layout(source: str, state: Mapping[str, torch.Tensor]) -> Layout:
    if source == 'native':  # our own files: a backbone's flat keys, or a classifier's or recognizer's (TPN's neck)
        if any(k.startswith(BACKBONE_PREFIX) for k in state):
            return Layout(BACKBONE_PREFIX, (CLASSIFIER_HEAD, 'fc.'), model_parts=('neck.',))
        return Layout('', (CLASSIFIER_HEAD, 'fc.'))
    return LAYOUTS[source]


def split_keys(ckpt: Checkpoint, source: str) -> Split:
    """Cut ``ckpt`` by the layout of ``source``; ValueError when the file does not have that layout at all."""
    layout, split = _layout(source, ckpt.state), Split()
    if layout.prefix and not any(k.startswith(layout.prefix) for k in ckpt.state):
        raise ValueError(f"source={source!r} expects keys starting with {layout.prefix!r}, but {ckpt.origin} has "
                         f'none (first keys: {list(ckpt.state)[:5]}); pass source=None to detect the format')
    for key, value in ckpt.state.items():
        head = next(((h, 'fc.') for h in layout.heads if key.startswith(h)), None) or \
            next(((h, ours) for h, ours in layout.head_parts if key.startswith(h)), None)
        if head is not None:
            split.head[head[1] + key[len(head[0]):]] = value
            split.head_origin[head[1] + key[len(head[0]):]] = key
        elif key.startswith(layout.model_parts):
            split.parts[key] = value
        elif layout.elsewhere and key.startswith(layout.elsewhere):
            split.ignored.append((key, f'not part of the backbone ({layout.elsewhere_is})'))
        elif layout.prefix and not key.startswith(layout.prefix):
            part = '.'.join(key.split('.')[:2 if key.startswith(BACKBONE_PREFIX) else 1])  # e.g. backbone.fpn
            split.ignored.append((key, f'not part of the backbone ({part})'))
        elif not layout.prefix and key.startswith(DETECTOR_PARTS + ('head.',)):
            split.ignored.append((key, f"not part of the backbone ({key.split('.', 1)[0]})"))
        else:
            name = key[len(layout.prefix):]
            split.backbone[name] = value
            split.origin[name] = key
    split.ignored += [(key, 'not a tensor') for key in ckpt.skipped]
    return split
