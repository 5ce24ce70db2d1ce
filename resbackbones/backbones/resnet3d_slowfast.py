"""mmaction2's ``ResNet3dSlowFast`` (Feichtenhofer et al., 2019): two pathways of the one core over one clip.

The slow pathway sees every ``resample_rate``-th frame with full width; the fast one sees ``speed_ratio`` times as
many frames with ``1 / channel_ratio`` of the width, and feeds the slow one through lateral convs after its stem and
after each stage but the last. Both are ``ResNet3dPathway`` (the core's ResNet3d with laterals as data), built from
mmaction2's ``slow_pathway`` / ``fast_pathway`` dicts, so its configs build unchanged and its checkpoints load key for
key (``backbone.slow_path.*``, ``backbone.fast_path.*``).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..registry import MODELS
from ..structures import FeatureSpec
from .resnet import _strides_of
from .slowfast_pathway import ResNet3dPathway
from .two_pathways import TwoPathwayBackbone

SLOW_PATHWAY = dict(type='resnet3d', depth=50, pretrained=None, lateral=True, conv1_kernel=(1, 7, 7),
                    conv1_stride_t=1, pool1_stride_t=1, inflate=(0, 0, 1, 1))
FAST_PATHWAY = dict(type='resnet3d', depth=50, pretrained=None, lateral=False, base_channels=8,
                    conv1_kernel=(5, 7, 7), conv1_stride_t=1, pool1_stride_t=1)


def _pathway_args(owner: str, cfg: dict) -> dict:
    """A pathway dict without its ``type``, which must be mmaction2's only kind, 'resnet3d'."""
    if not isinstance(cfg, dict) or cfg.get('type') != 'resnet3d':
        raise ValueError(f"ResNet3dSlowFast: {owner} must be a dict with type='resnet3d' (mmaction2's only pathway "
                         f'kind); got {cfg!r}')
    return {k: v for k, v in cfg.items() if k != 'type'}


def _resample(x: torch.Tensor, rate: int) -> torch.Tensor:
    """Every ``rate``-th frame of (N, C, T, H, W), T // rate of them, by mmaction2's nearest interpolation."""
    return x if rate == 1 else F.interpolate(x, mode='nearest', scale_factor=(1.0 / rate, 1.0, 1.0))


@MODELS.register_module()
class ResNet3dSlowFast(TwoPathwayBackbone):
    """(N, C, T, H, W) clips -> (slow features (N, C_s, T / resample_rate, H', W'), fast features (N, C_f,
    T / (resample_rate / speed_ratio), H', W')).

    Args (mmaction2's):
        pretrained: a SlowFast checkpoint (mmaction2's, or ours) loaded into both pathways; None: random init.
        resample_rate: the slow pathway's frame stride tau. speed_ratio: alpha, how many more frames the fast
            pathway sees (resample_rate must be a multiple of it). channel_ratio: beta, the slow / fast width ratio.
        slow_pathway / fast_pathway: ``dict(type='resnet3d', ...)`` of ResNet3dPathway arguments; mmaction2's
            defaults (SlowFast R50 4x16) when None. The slow one usually has ``lateral=True``.
        init_cfg: mmengine's; ``dict(type='Pretrained', checkpoint=...)`` as ``pretrained``.
    A clip's length must be a multiple of resample_rate, so the laterals' frames line up with the slow pathway's.
    """

    pathway_names = ('slow_path', 'fast_path')

    def __init__(self, pretrained: str | None = None, resample_rate: int = 8, speed_ratio: int = 8,
                 channel_ratio: int = 8, slow_pathway: dict | None = None, fast_pathway: dict | None = None,
                 init_cfg: dict | None = None):
        super().__init__('ResNet3dSlowFast', pretrained, init_cfg)
        for name, value in (('resample_rate', resample_rate), ('speed_ratio', speed_ratio),
                            ('channel_ratio', channel_ratio)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f'ResNet3dSlowFast: {name} must be an integer >= 1; got {value!r}')
        if resample_rate % speed_ratio:
            raise ValueError(f'ResNet3dSlowFast: resample_rate ({resample_rate}) must be a multiple of speed_ratio '
                             f'({speed_ratio}): the fast pathway takes every resample_rate / speed_ratio-th frame')
        self.resample_rate, self.speed_ratio, self.channel_ratio = resample_rate, speed_ratio, channel_ratio
        slow = _pathway_args('slow_pathway', slow_pathway or SLOW_PATHWAY)
        fast = _pathway_args('fast_pathway', fast_pathway or FAST_PATHWAY)
        if slow.get('lateral_inv') or fast.get('lateral_inv'):
            raise ValueError('ResNet3dSlowFast: lateral_inv=True is not for SlowFast, whose laterals go from the fast '
                             "pathway into the slow one (inverse laterals are PoseC3D's RGBPoseConv3D)")
        if fast.get('lateral'):
            raise ValueError('ResNet3dSlowFast: fast_pathway must have lateral=False (laterals go from the fast '
                             'pathway into the slow one)')
        self.fast_path = ResNet3dPathway(**fast)
        if slow.get('num_stages', 4) != self.fast_path.num_stages:
            raise ValueError(f"ResNet3dSlowFast: the pathways need the same num_stages; got slow "
                             f"{slow.get('num_stages', 4)}, fast {self.fast_path.num_stages}")
        fused_from = [spec.channels for spec in self.fast_path.all_specs()][:self.fast_path.num_stages]
        if slow.get('lateral'):
            slow.update(speed_ratio=speed_ratio, channel_ratio=channel_ratio, lateral_in_channels=fused_from)
        self.slow_path = ResNet3dPathway(**slow)
        self._check_widths(fused_from)
        self._check_temporal_strides()

    def _check_widths(self, fast_channels: list[int]) -> None:
        """mmaction2 sizes the laterals from the slow widths / channel_ratio: refuse pathways where that is not the
        fast pathway's width (its SlowFast would fail on them), naming both."""
        if not self.slow_path.lateral:
            return
        slow_channels = [spec.channels for spec in self.slow_path.all_specs()][:len(fast_channels)]
        if [c // self.channel_ratio for c in slow_channels] != fast_channels:
            raise ValueError(f'ResNet3dSlowFast: the fast pathway\'s channels {fast_channels} (after its stem and '
                             f'stages) must be the slow pathway\'s {slow_channels} divided by channel_ratio='
                             f'{self.channel_ratio}; set the fast pathway\'s base_channels accordingly')

    @staticmethod
    def _entry_strides(path: ResNet3dPathway) -> list[int]:
        """Temporal stride of the features entering each stage (where a lateral joins them)."""
        specs = path.all_specs()
        return [specs[0].temporal_stride * _strides_of(path.maxpool)[1]] + \
            [spec.temporal_stride for spec in specs[1:path.num_stages]]

    def _check_temporal_strides(self) -> None:
        """A lateral joins T / fast_rate / fast_stride / speed_ratio fast frames to T / resample_rate / slow_stride
        slow ones: the pathways' own temporal strides must agree wherever a lateral joins, else every clip length
        failed in forward with advice about clip lengths that could not help."""
        if not self.slow_path.lateral:
            return
        slow, fast = self._entry_strides(self.slow_path), self._entry_strides(self.fast_path)
        joins = [k for k in range(self.slow_path.num_stages) if self.slow_path.lateral_before(k) is not None]
        bad = [k for k in joins if slow[k] != fast[k]]
        if bad:
            raise ValueError(f'ResNet3dSlowFast: the pathways\' temporal strides before stage(s) '
                             f'{[k + 1 for k in bad]} differ (slow {[slow[k] for k in bad]}, fast '
                             f'{[fast[k] for k in bad]}); resample_rate and speed_ratio set the rates, so '
                             'conv1_stride_t, pool1_stride_t and temporal_strides must match between slow_pathway '
                             'and fast_pathway')

    @property
    def fast_rate(self) -> int:
        return self.resample_rate // self.speed_ratio

    def _spec(self, name: str, rate: int) -> FeatureSpec:
        spec = getattr(self, name).all_specs()[-1]
        resample = ((rate, rate, 0, False),) if rate > 1 else ()  # nearest resampling keeps T // rate frames
        return FeatureSpec(f'{name}.{spec.name}', spec.channels, spec.stride, spec.temporal_stride * rate,
                           resample + spec.temporal_ops, spec.spatial_ops)

    @property
    def feature_specs(self) -> tuple[FeatureSpec, FeatureSpec]:
        """The slow and the fast pathway's last stage, in forward's order."""
        return self._spec('slow_path', self.resample_rate), self._spec('fast_path', self.fast_rate)

    def _fuse(self, stage: int, slow: torch.Tensor, fast: torch.Tensor) -> torch.Tensor:
        lateral = self.slow_path.lateral_before(stage)
        if lateral is None:
            return slow
        joined = lateral(fast)
        if joined.shape[2] != slow.shape[2]:
            raise ValueError(f'ResNet3dSlowFast: before stage {stage + 1} the fast pathway gives {joined.shape[2]} '
                             f'frames after its lateral, the slow one {slow.shape[2]}: give clips whose length is a '
                             f'multiple of resample_rate={self.resample_rate}')
        return torch.cat((slow, joined), dim=1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if x.dim() != 5:
            raise ValueError(f'ResNet3dSlowFast takes (N, C, T, H, W) clips; got shape {tuple(x.shape)}')
        if x.shape[2] < self.resample_rate:
            raise ValueError(f'ResNet3dSlowFast: a clip of {x.shape[2]} frames has none for the slow pathway '
                             f'(resample_rate={self.resample_rate})')
        slow = self.slow_path.maxpool(self.slow_path.stem_forward(_resample(x, self.resample_rate)))
        fast = self.fast_path.maxpool(self.fast_path.stem_forward(_resample(x, self.fast_rate)))
        slow = self._fuse(0, slow, fast)
        stages = list(zip(self.slow_path.stages(), self.fast_path.stages()))
        for i, (slow_stage, fast_stage) in enumerate(stages):
            slow, fast = slow_stage(slow), fast_stage(fast)
            if i + 1 < len(stages):
                slow = self._fuse(i + 1, slow, fast)
        return slow, fast

    def describe(self) -> str:
        """Each pathway's per-stage table (the core's ``describe``), and the laterals between them."""
        def frames(rate: int) -> str:
            return 'every frame' if rate == 1 else f'one frame in {rate}'
        return '\n'.join([f'slow_path: {frames(self.resample_rate)}', self.slow_path.describe(),
                          self.lateral_summary(self.slow_path, 'fast -> slow'),
                          f'fast_path: {frames(self.fast_rate)}', self.fast_path.describe()])
