"""Faster R-CNN and Mask R-CNN: any registered backbone + a neck + torchvision's RPN and RoI heads.

Data flow (mmdet's): ``inputs`` is the padded, normalised batch from the data preprocessor; each data sample is an
mmengine ``BaseDataElement`` with metainfo ``img_shape`` (h, w after resize, before padding) and ``ori_shape``, and
in training ``gt_instances`` (``bboxes`` (N, 4) xyxy in ``img_shape`` pixels, ``labels`` (N,) in 0..num_classes-1,
``masks`` (N, h, w) uint8 for Mask R-CNN). Predictions come back as ``pred_instances`` in ``ori_shape`` pixels.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Sequence

import torch
from mmengine.structures import BaseDataElement, InstanceData
from torch import nn
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.transform import resize_boxes

from ...registry import MODELS
from ..base import TaskModel
from .mask_paste import paste_masks
from .rcnn_parts import ROI_HEAD, RPN_HEAD, TEST_CFG, TRAIN_CFG, build_roi_heads, build_rpn, level_names, merge_cfg

LOSS_NAMES = {'loss_objectness': 'loss_rpn_cls', 'loss_rpn_box_reg': 'loss_rpn_bbox', 'loss_classifier': 'loss_cls',
              'loss_box_reg': 'loss_bbox', 'loss_mask': 'loss_mask'}
IMAGENET = dict(type='ImgDataPreprocessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                pad_size_divisor=32)


def _neck_cfg(neck: dict, backbone: nn.Module) -> dict:
    """The neck config with ``in_channels``/``in_strides`` from the backbone's feature specs (a config that gives
    them must agree)."""
    specs = backbone.feature_specs
    derived = dict(in_channels=[s.channels for s in specs], in_strides=[s.stride for s in specs])
    for key, value in derived.items():
        if neck.get(key) is not None and list(neck[key]) != value:
            raise ValueError(f'neck.{key}={list(neck[key])} disagrees with the backbone, whose feature_specs give '
                             f'{value}; leave neck.{key} out: it is derived from the backbone')
    return {**neck, **derived}


@MODELS.register_module()
class FasterRCNN(TaskModel):
    """Two-stage detector (Ren et al., 2015) built from torchvision's detection parts.

    Args:
        backbone: config (from MODELS) or module with ``feature_specs``; any out_indices. Built as given: the
            base config states FrozenBN (detection fine-tuning's choice: batches are too small for batch statistics).
        neck: config such as ``dict(type='FPN', out_channels=256, num_outs=5)`` (in_channels derived) or None to
            feed the backbone outputs (equal channels) to the heads directly.
        rpn_head / roi_head / train_cfg / test_cfg: see ``rcnn_parts`` for keys and defaults (torchvision's).
        data_preprocessor: defaults to ImageNet mean/std and padding to a multiple of 32.

    Forward modes: 'tensor' -> the neck's features; 'loss' -> dict of losses (loss_rpn_cls, loss_rpn_bbox,
    loss_cls, loss_bbox[, loss_mask]); 'predict' -> the data samples with ``pred_instances`` (bboxes (K, 4),
    scores (K,), labels (K,)[, masks (K, H, W) bool]) in original-image pixels.
    """

    with_mask = False

    def __init__(self, backbone: dict | nn.Module, neck: dict | None = None, rpn_head: dict | None = None,
                 roi_head: dict | None = None, train_cfg: dict | None = None, test_cfg: dict | None = None,
                 data_preprocessor: dict | None = None, init_cfg: dict | None = None):
        super().__init__(data_preprocessor=data_preprocessor or IMAGENET, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone) if isinstance(backbone, dict) else backbone
        self.neck = MODELS.build(_neck_cfg(dict(neck), self.backbone)) if neck is not None else None
        specs = (self.neck if self.neck is not None else self.backbone).feature_specs
        self.train_cfg = merge_cfg(TRAIN_CFG, train_cfg, 'train_cfg')
        self.test_cfg = merge_cfg(TEST_CFG, test_cfg, 'test_cfg')
        self.roi_cfg = merge_cfg(ROI_HEAD, roi_head, 'roi_head')
        self.rpn = build_rpn(specs, merge_cfg(RPN_HEAD, rpn_head, 'rpn_head'), self.train_cfg, self.test_cfg)
        self.roi_heads = build_roi_heads(specs, self.backbone.feature_specs, self.roi_cfg, self.train_cfg,
                                         self.test_cfg, self.with_mask)
        self.num_classes = self.roi_cfg['num_classes']
        self._names = level_names(specs)

    def extract_feat(self, inputs: torch.Tensor) -> OrderedDict[str, torch.Tensor]:
        """Neck (or backbone) features of the (N, C, H, W) batch, keyed '0', '1', ... as torchvision's heads want."""
        feats = self.backbone(inputs)
        if self.neck is not None:
            feats = self.neck(feats)
        return OrderedDict(zip(self._names, feats))

    def tensor(self, inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return tuple(self.extract_feat(inputs).values())

    def _images(self, inputs: torch.Tensor, data_samples) -> ImageList:
        if data_samples is None:
            return ImageList(inputs, [tuple(inputs.shape[-2:])] * len(inputs))
        if len(data_samples) != len(inputs):
            raise ValueError(f'got {len(inputs)} images but {len(data_samples)} data samples')
        return ImageList(inputs, [tuple(int(v) for v in s.metainfo['img_shape'][:2]) for s in data_samples])

    def _target(self, sample: BaseDataElement, device: torch.device) -> dict[str, torch.Tensor]:
        where = sample.metainfo.get('img_path', sample.metainfo.get('img_id'))
        gt = getattr(sample, 'gt_instances', None)
        if gt is None:  # mmengine's AttributeError named neither the image nor the missing step
            raise ValueError(f'image {where}: its data sample has no gt_instances; load them with '
                             'LoadDetAnnotations before PackDetInputs in the training pipeline')
        if self.with_mask and 'masks' not in gt:
            raise ValueError(f'image {where}: {type(self).__name__} trains on masks, but its gt_instances have '
                             'none; load them with LoadDetAnnotations(with_mask=True)')
        boxes = torch.as_tensor(gt.bboxes, dtype=torch.float32, device=device).reshape(-1, 4)
        bad = (boxes[:, 2] <= boxes[:, 0]) | (boxes[:, 3] <= boxes[:, 1])
        if bad.any():
            raise ValueError(f'image {where}: gt box {boxes[bad][0].tolist()} has zero or negative width/height')
        target = dict(boxes=boxes, labels=torch.as_tensor(gt.labels, device=device).long() + 1)
        if self.with_mask:
            target['masks'] = torch.as_tensor(gt.masks, device=device)
        return target

    def loss(self, inputs: torch.Tensor, data_samples: Sequence[BaseDataElement]) -> dict[str, torch.Tensor]:
        """Losses of a batch; ``data_samples`` carry ``gt_instances``. The model must be in train mode."""
        if not self.training or data_samples is None:
            raise ValueError("mode='loss' needs model.train() and data_samples with gt_instances")
        images = self._images(inputs, data_samples)
        targets = [self._target(s, inputs.device) for s in data_samples]
        feats = self.extract_feat(inputs)
        proposals, rpn_losses = self.rpn(images, feats, targets)
        _, roi_losses = self.roi_heads(feats, proposals, images.image_sizes, targets)
        return {LOSS_NAMES.get(k, k): v for k, v in {**rpn_losses, **roi_losses}.items()}

    @torch.no_grad()
    def predict(self, inputs: torch.Tensor, data_samples: Sequence[BaseDataElement] | None = None
                ) -> list[BaseDataElement]:
        """Detections per image, rescaled to ``ori_shape`` (default: the input size). Needs model.eval()."""
        if self.training:
            raise ValueError("mode='predict' needs model.eval() (torchvision's heads switch on the training flag)")
        images = self._images(inputs, data_samples)
        feats = self.extract_feat(inputs)
        proposals, _ = self.rpn(images, feats)
        detections, _ = self.roi_heads(feats, proposals, images.image_sizes)
        if data_samples is None:
            data_samples = [BaseDataElement(metainfo=dict(img_shape=s, ori_shape=s)) for s in images.image_sizes]
        for det, sample, img_shape in zip(detections, data_samples, images.image_sizes):
            ori_shape = tuple(int(v) for v in sample.metainfo.get('ori_shape', img_shape)[:2])
            boxes = to_original_pixels(det['boxes'], sample.metainfo, img_shape, ori_shape)
            pred = InstanceData(bboxes=boxes, scores=det['scores'], labels=det['labels'] - 1)
            if 'masks' in det:
                pred.masks = paste_masks(det['masks'], boxes, ori_shape, self.test_cfg['rcnn']['mask_thr_binary'])
            sample.pred_instances = pred
        return list(data_samples)


def input_scale(meta: dict, img_shape, ori_shape) -> tuple[float, float]:
    """(x, y) scale from the original image's pixels to the network input's: ``scale_factor`` (w, h) once a Pad
    step has recorded ``pad_shape`` (1 when nothing resized: every resize records one), else the ratio of
    ``img_shape`` to ``ori_shape``. The picture hook draws by it too. A test pipeline that moved or cut the image
    (``geometry_moved``: a DetAlbu crop or centred pad) has no such scale: ValueError."""
    if meta.get('geometry_moved'):
        raise ValueError(f"{meta.get('img_path', 'an image')}: {meta['geometry_moved']}, so its predictions cannot be "
                         'mapped back to the original pixels; a test pipeline may resize and pad at the right and '
                         "bottom (LongestMaxSize + PadIfNeeded(position='top_left')), not crop or centre")
    if 'pad_shape' not in meta:
        return img_shape[1] / ori_shape[1], img_shape[0] / ori_shape[0]
    factor = meta.get('scale_factor')
    return (1.0, 1.0) if factor is None else (float(factor[0]), float(factor[1]))


def to_original_pixels(boxes: torch.Tensor, meta: dict, img_shape, ori_shape: tuple[int, int]) -> torch.Tensor:
    """Boxes in the network input's pixels mapped to the original image's: by ``scale_factor`` (w, h) once a Pad
    step has recorded ``pad_shape`` (mmcv's Pad sets ``img_shape`` to the padded size, and the ratio of sizes put
    the boxes in the wrong pixels), else by the ratio of ``img_shape`` to ``ori_shape`` (torchvision's rule).
    A Pad with no ``scale_factor`` means nothing resized the image (every resize records one): the factor is 1."""
    w, h = input_scale(meta, img_shape, ori_shape)  # first: it refuses a moved image
    if 'pad_shape' not in meta:
        return resize_boxes(boxes, img_shape, ori_shape)
    out = boxes / boxes.new_tensor([w, h, w, h])
    out[:, 0::2] = out[:, 0::2].clamp(0, ori_shape[1])
    out[:, 1::2] = out[:, 1::2].clamp(0, ori_shape[0])
    return out


@MODELS.register_module()
class MaskRCNN(FasterRCNN):
    """Mask R-CNN (He et al., 2017): FasterRCNN plus torchvision's mask branch (4 convs, deconv, per-class 28x28).

    ``test_cfg.rcnn.mask_thr_binary`` binarises the pasted masks (None keeps the probabilities).
    """

    with_mask = True
