"""U-Net segmentor: a backbone's multi-scale features -> UNetDecoder -> per-pixel class logits.

The decoder is sized from the backbone's ``feature_specs`` (plus the full-resolution input when ``input_skip``);
inputs of any size are padded to a multiple of the deepest stride and the logits cropped back. A volumetric
backbone (VolumeResNet: a 3D core, its specs' temporal stride being depth) gives a 3D U-Net on (N, C, D, H, W):
the same config keys, D padded to a multiple of the deepest depth stride.
"""
from __future__ import annotations

from typing import Sequence

import warnings

import torch
import torch.nn.functional as F
from torch import nn

from .. import losses  # noqa: F401  (registers the loss types in MODELS)
from ..apis.sliding_window import BLEND_MODES, sliding_window_inference, window_sizes
from ..backbones.input_checks import check_input
from ..registry import MODELS
from ..structures import FeatureSpec
from .base import TaskModel
from .seg_samples import gt_maps, split_samples

DEFAULT_LOSS = (dict(type='CrossEntropyLoss'), dict(type='DiceLoss'))
TEST_KEYS = {'mode', 'patch_size', 'overlap', 'blend', 'sigma_scale', 'batch_size', 'threshold'}
ANISOTROPY = 2.0  # spacing ratio between depth and in-plane above which isotropic strides deserve a warning


def backbone_dims(backbone: nn.Module) -> int:
    """3 for a core built with a leading-axis plan (video or volume), else 2."""
    return 3 if getattr(backbone, 'temporal', None) is not None else 2


def check_test_cfg(test_cfg: dict | None, dims: int = 2) -> dict:
    """Inference settings: mode 'whole' or 'slide' (patch_size, overlap, blend, sigma_scale, batch_size);
    ``dims``: the model's spatial axes, which a patch_size of several sides must match."""
    cfg = dict(mode='whole', overlap=0.25, blend='gaussian', sigma_scale=0.125, batch_size=4, threshold=0.5)
    cfg.update(test_cfg or {})
    unknown = sorted(set(cfg) - TEST_KEYS)
    if unknown:
        raise ValueError(f'UNet: unknown test_cfg key(s) {unknown}; known: {sorted(TEST_KEYS)}')
    if cfg['mode'] not in ('whole', 'slide'):
        raise ValueError(f"UNet: test_cfg mode must be 'whole' or 'slide'; got {cfg['mode']!r}")
    if cfg['mode'] == 'slide' and 'patch_size' not in cfg:
        raise ValueError("UNet: test_cfg mode='slide' needs patch_size, e.g. dict(mode='slide', patch_size=256)")
    if cfg['blend'] not in BLEND_MODES:
        raise ValueError(f"UNet: test_cfg blend must be one of {list(BLEND_MODES)}; got {cfg['blend']!r}")
    # checked here, when the model is built, not in the middle of a test epoch
    number = (int, float)
    for key, valid, expected in (('overlap', lambda v: isinstance(v, number) and 0 <= v < 1, 'in [0, 1)'),
                                 ('sigma_scale', lambda v: isinstance(v, number) and v > 0, '> 0'),
                                 ('threshold', lambda v: isinstance(v, number) and 0 < v < 1, 'in (0, 1)'),
                                 ('batch_size', lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1,
                                  'an int >= 1')):
        if not valid(cfg[key]):
            raise ValueError(f'UNet: test_cfg {key} must be {expected}; got {cfg[key]!r}')
    if 'patch_size' in cfg:
        try:
            window_sizes(cfg['patch_size'], 'patch_size', dims)
        except ValueError as err:
            raise ValueError(f'UNet: test_cfg {str(err).split(": ", 1)[1]}') from err
    return cfg


def pad_to_multiple(inputs: torch.Tensor, divisors: Sequence[int]) -> torch.Tensor:
    """Zero-pad the last ``len(divisors)`` axes of ``inputs`` at their end to multiples of ``divisors``."""
    sizes = inputs.shape[-len(divisors):]
    pads = [p for n, d in zip(reversed(sizes), reversed(divisors)) for p in (0, -n % d)]
    return F.pad(inputs, pads) if any(pads) else inputs


@MODELS.register_module()
class UNet(TaskModel):
    """U-Net on any registered backbone that declares ``feature_specs``.

    Args:
        backbone: backbone config (e.g. ResNet with ``out_indices=('stem', 0, 1, 2, 3)``) or module.
            ``in_channels`` there sets the input channels; a 'Pretrained' init_cfg adapts a 3-channel stem.
        num_classes: labels in the masks, background included (2 for foreground/background).
        decoder: UNetDecoder options (decoder_channels, upsample, attention, norm_cfg); specs are derived.
        input_skip: also feed the full-resolution input to the decoder as a stride-1 skip.
        binary: one sigmoid output channel for foreground (needs num_classes=2) instead of softmax over classes.
        loss: loss config(s) from MODELS, summed by mmengine (default cross-entropy + Dice); their ignore_index
            defaults to the model's.
        ignore_index: mask label that does not count in losses (padding, unlabelled pixels).
        test_cfg: ``dict(mode='whole')`` or ``dict(mode='slide', patch_size=256, overlap=0.25, blend='gaussian',
            batch_size=4)``; ``threshold`` of the foreground probability for binary models.
        data_preprocessor: default ImgDataPreprocessor without normalisation (stacks the inputs; our seg
            transforms normalise intensities).

    A 3D backbone (e.g. ``VolumeResNet``) makes it a 3D U-Net: the decoder gets ``dims=3`` and every shape below
    gains a depth axis, (N, C, D, H, W) inputs and (D, H, W) label maps; 'slide' windows are then 3D.

    Forward modes on (N, C, H, W) inputs: 'tensor' -> logits (N, K, H, W), K = 1 if binary else num_classes;
    'loss' -> dict of losses (data_samples carry 'gt_sem_seg' (H, W) label maps); 'predict' -> one dict per
    sample with 'pred_sem_seg' (H, W) int64, 'seg_probs' (num_classes, H, W), and the sample's own keys
    ('gt_sem_seg', 'img_path' ...) passed through.
    """

    def __init__(self, backbone: dict | nn.Module, num_classes: int, decoder: dict | None = None,
                 input_skip: bool = False, binary: bool = False, loss: dict | Sequence[dict] | None = None,
                 ignore_index: int = 255, test_cfg: dict | None = None, data_preprocessor: dict | None = None,
                 init_cfg: dict | None = None):
        super().__init__(data_preprocessor=data_preprocessor or dict(type='ImgDataPreprocessor'), init_cfg=init_cfg)
        if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 2:
            raise ValueError(f'UNet: num_classes must be an int >= 2 (background counts); got {num_classes!r}')
        if binary and num_classes != 2:
            raise ValueError(f'UNet: binary=True (one sigmoid channel) needs num_classes=2; got {num_classes}')
        self.backbone = MODELS.build(backbone) if isinstance(backbone, dict) else backbone
        specs = getattr(self.backbone, 'feature_specs', None)
        if not specs:
            raise ValueError(f'UNet: backbone {type(self.backbone).__name__} declares no feature_specs')
        specs = tuple(specs)
        if input_skip:
            specs += (FeatureSpec('input', self.backbone.in_channels, 1),)
        decoder = dict(decoder or {})
        if 'feature_specs' in decoder:
            raise ValueError('UNet: decoder feature_specs come from the backbone; remove them from the config')
        decoder.setdefault('type', 'UNetDecoder')
        self.dims = backbone_dims(self.backbone)
        if decoder.get('dims', self.dims) != self.dims:
            raise ValueError(f"UNet: decoder dims={decoder['dims']} but the backbone is {self.dims}D; drop the key")
        self.decoder = MODELS.build(dict(decoder, feature_specs=specs, dims=self.dims))
        self.num_classes, self.binary, self.input_skip = num_classes, binary, input_skip
        head = nn.Conv2d if self.dims == 2 else nn.Conv3d
        self.seg_head = head(self.decoder.out_channels, 1 if binary else num_classes, 3, padding=1)
        self.size_divisor = max(spec.stride for spec in specs)
        self.depth_divisor = max(spec.temporal_stride for spec in specs) if self.dims == 3 else 1
        self._spacing_checked = False
        self.ignore_index = ignore_index
        loss_cfgs = [loss] if isinstance(loss, dict) else list(loss or DEFAULT_LOSS)
        self.losses = nn.ModuleList(MODELS.build({'ignore_index': ignore_index, **cfg}) for cfg in loss_cfgs)
        names = [getattr(m, 'loss_name', type(m).__name__) for m in self.losses]
        if len(set(names)) != len(names):
            raise ValueError(f'UNet: loss names must differ (give each a loss_name); got {names}')
        self.test_cfg = check_test_cfg(test_cfg, self.dims)

    @property
    def divisors(self) -> tuple[int, ...]:
        """What each spatial axis of an input is padded to a multiple of: the deepest stride along it, (H, W) or
        (D, H, W) (depth may be downsampled less than H and W)."""
        return (self.depth_divisor, self.size_divisor, self.size_divisor)[-self.dims:]

    def logits(self, inputs: torch.Tensor) -> torch.Tensor:
        """(N, C, [D,] H, W) -> (N, K, [D,] H, W) logits; pads each axis to a multiple of the deepest stride along
        it and crops back."""
        if inputs.dim() != self.dims + 2:
            shape = '(N, C, H, W)' if self.dims == 2 else '(N, C, D, H, W)'
            raise ValueError(f'UNet: inputs must be {shape} for this {self.dims}D model; got {tuple(inputs.shape)}')
        if hasattr(self.backbone, 'layer_factory'):  # before padding: its errors named the padded shape
            check_input(self.backbone, inputs)
        sizes = tuple(inputs.shape[2:])
        x = pad_to_multiple(inputs, self.divisors)
        features = list(self.backbone(x))
        if self.input_skip:
            features.append(x)
        return self.seg_head(self.decoder(features))[(..., *(slice(0, n) for n in sizes))]

    def check_spacing(self, samples: Sequence[dict]) -> None:
        """Warn once when volumes are much coarser along depth than in-plane while the encoder downsamples
        depth as often as H and W (the deepest features then span far more millimetres along depth)."""
        if self.dims != 3 or self._spacing_checked:
            return
        spacing = next((s['spacing'] for s in samples if s.get('spacing') is not None), None)
        if spacing is None or len(spacing) != 3:
            return
        self._spacing_checked = True
        depth, in_plane = float(spacing[0]), min(float(spacing[1]), float(spacing[2]))
        if depth >= ANISOTROPY * in_plane and self.depth_divisor >= self.size_divisor:
            where = samples[0].get('img_path', 'the input')
            warnings.warn(f'UNet: {where} has spacing {depth:g} mm along depth (axis D) vs {in_plane:g} mm in-plane, '
                          f'but the encoder downsamples depth as much as H and W (deepest strides '
                          f'{self.depth_divisor} vs {self.size_divisor}); consider depth_strides such as (1, 1, 2, 2)',
                          stacklevel=2)

    def predict_logits(self, inputs: torch.Tensor) -> torch.Tensor:
        """Logits of whole inputs, or blended over sliding windows when test_cfg mode is 'slide'."""
        cfg = self.test_cfg
        if cfg['mode'] == 'whole':
            return self.logits(inputs)
        return sliding_window_inference(inputs, self.logits, cfg['patch_size'], cfg['overlap'], cfg['blend'],
                                        cfg['sigma_scale'], cfg['batch_size'])

    def probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        """(N, K, H, W) logits -> (N, num_classes, H, W) class probabilities (binary: [1 - p, p])."""
        if self.binary:
            fg = torch.sigmoid(logits)
            return torch.cat([1 - fg, fg], dim=1)
        return logits.softmax(dim=1)

    def labels(self, probs: torch.Tensor) -> torch.Tensor:
        """(N, num_classes, H, W) probabilities -> (N, H, W) int64 labels (binary: foreground >= threshold)."""
        if self.binary:
            return (probs[:, 1] >= self.test_cfg['threshold']).long()
        return probs.argmax(dim=1)

    def loss(self, inputs: torch.Tensor, data_samples) -> dict[str, torch.Tensor]:
        """Each loss on the logits against the stacked ground truth (padding pixels are ignored)."""
        samples = split_samples(data_samples, inputs.shape[0])
        self.check_spacing(samples)
        target = gt_maps(samples, inputs.shape[2:], self.ignore_index, inputs.device, required=True)
        logits = self.logits(inputs)
        return {getattr(m, 'loss_name', type(m).__name__): m(logits, target) for m in self.losses}

    @torch.no_grad()
    def predict(self, inputs: torch.Tensor, data_samples=None) -> list[dict]:
        """One dict per sample: 'pred_sem_seg', 'seg_probs', cropped to the sample's ground-truth size, else to its
        'img_shape' (the batch pads smaller images)."""
        samples = split_samples(data_samples, inputs.shape[0])
        self.check_spacing(samples)
        padded = tuple(inputs.shape[2:])
        crops = []
        for sample in samples:
            gt, shape = sample.get('gt_sem_seg'), sample.get('img_shape')  # without a mask, the image's own size
            size = tuple(gt.shape[-self.dims:]) if isinstance(gt, torch.Tensor) else \
                tuple(int(n) for n in shape)[-self.dims:] if shape is not None else padded
            crops.append(tuple(slice(0, n) for n in size))
        if all(tuple(c.stop for c in crop) == padded for crop in crops):
            probs = list(self.probabilities(self.predict_logits(inputs)))
        else:  # each on its own pixels: the batch's padding moved the windows and (GroupNorm) the statistics, so
            # an image's prediction changed with its batch-mates
            probs = [self.probabilities(self.predict_logits(inputs[i:i + 1][(slice(None), slice(None), *crop)]))[0]
                     for i, crop in enumerate(crops)]
        outputs = []
        for sample, prob, crop in zip(samples, probs, crops):
            prob = prob[(slice(None), *crop)]
            outputs.append({**sample, 'pred_sem_seg': self.labels(prob[None])[0], 'seg_probs': prob})
        return outputs

    def tensor(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.logits(inputs)
