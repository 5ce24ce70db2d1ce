"""mmaction2's ``RGBPoseConv3D`` (PoseC3D, Duan et al. 2022): an RGB and a pose-heatmap pathway of the one core,
each feeding the other.

The RGB pathway sees few frames (8) at full width; the pose pathway sees ``speed_ratio`` times as many heatmap
frames (32) at 1 / ``channel_ratio`` of the width, one stage fewer and a stem without downsampling (heatmaps are a
quarter of the frames' size). After RGB stage k + 1 and pose stage k (k = 1, 2), where the two maps have the same
size, each takes the other's features: the RGB pathway by a forward lateral (strided conv, frames / speed_ratio),
the pose pathway by an inverse one (transposed conv, frames x speed_ratio, channels / lateral_infl). Both are
``ResNet3dPathway``, built from mmaction2's ``rgb_pathway`` / ``pose_pathway`` dicts, so its configs build unchanged and
its checkpoints load key for key (``backbone.rgb_path.*``, ``backbone.pose_path.*``).
"""
from __future__ import annotations

import torch

from ..registry import MODELS
from ..structures import FeatureSpec
from .slowfast_pathway import ResNet3dPathway
from .two_pathways import TwoPathwayBackbone

RGB_PATHWAY = dict(num_stages=4, lateral=True, lateral_infl=1, lateral_activate=(0, 0, 1, 1), fusion_kernel=7,
                   base_channels=64, conv1_kernel=(1, 7, 7), inflate=(0, 0, 1, 1), with_pool2=False)
POSE_PATHWAY = dict(num_stages=3, stage_blocks=(4, 6, 3), lateral=True, lateral_inv=True, lateral_infl=16,
                    lateral_activate=(0, 1, 1), fusion_kernel=7, in_channels=17, base_channels=32, out_indices=(2,),
                    conv1_kernel=(1, 7, 7), conv1_stride_s=1, conv1_stride_t=1, pool1_stride_s=1, pool1_stride_t=1,
                    inflate=(0, 1, 1), spatial_strides=(2, 2, 2), temporal_strides=(1, 1, 1), dilations=(1, 1, 1),
                    with_pool2=False)
LATERAL_ONLY = ('lateral', 'lateral_inv', 'lateral_norm', 'lateral_infl', 'lateral_activate', 'fusion_kernel',
                'speed_ratio', 'channel_ratio')


def _fusion_point_channels(cfg: dict) -> list[int]:
    """A pathway's channels at its fusion points (after the stem, after each stage but the last), read off the
    feature specs of the same pathway without laterals, built on the meta device (no memory, no init cost)."""
    plain = {k: v for k, v in cfg.items() if k not in LATERAL_ONLY and k != 'pretrained'}
    with torch.device('meta'):
        probe = ResNet3dPathway(**plain)
    return [spec.channels for spec in probe.all_specs()][:probe.num_stages]


def _probability(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(f'RGBPoseConv3D: {name} must be a probability in [0, 1]; got {value!r}')
    return float(value)


@MODELS.register_module()
class RGBPoseConv3D(TwoPathwayBackbone):
    """(N, 3, T, H, W) frames and (N, joints, T * speed_ratio, H / 4, W / 4) heatmaps -> (RGB features, pose
    features), each of its pathway's last stage.

    Args (mmaction2's):
        pretrained: an RGBPoseConv3D checkpoint loaded into both pathways; None: each pathway initialises itself
            (from its own ``pretrained``, if its dict gives one).
        speed_ratio: how many heatmap frames per RGB frame (the laterals' temporal stride). channel_ratio: the
            RGB / pose width ratio.
        rgb_detach / pose_detach: stop gradients from flowing into the other pathway through the RGB / pose
            pathway's laterals.
        rgb_drop_path / pose_drop_path: in training, the probability that the RGB / pose pathway's lateral inputs
            are zeroed for a whole batch (one draw per forward pass, as mmaction2).
        rgb_pathway / pose_pathway: ResNet3dPathway arguments; mmaction2's defaults when None. The RGB pathway has
            one stage more than the pose one; laterals may be active only where the two meet (RGB fusion points
            2.., pose fusion points 1..), the only places mmaction2's forward fuses.
        init_cfg: mmengine's; ``dict(type='Pretrained', checkpoint=...)`` as ``pretrained``.
    """

    pathway_names = ('rgb_path', 'pose_path')

    def __init__(self, pretrained: str | None = None, speed_ratio: int = 4, channel_ratio: int = 4,
                 rgb_detach: bool = False, pose_detach: bool = False, rgb_drop_path: float = 0.,
                 pose_drop_path: float = 0., rgb_pathway: dict | None = None, pose_pathway: dict | None = None,
                 init_cfg: dict | None = None):
        super().__init__('RGBPoseConv3D', pretrained, init_cfg)
        self.rgb_detach, self.pose_detach = bool(rgb_detach), bool(pose_detach)
        self.rgb_drop_path = _probability('rgb_drop_path', rgb_drop_path)
        self.pose_drop_path = _probability('pose_drop_path', pose_drop_path)
        rgb, pose = dict(rgb_pathway or RGB_PATHWAY), dict(pose_pathway or POSE_PATHWAY)
        for name, cfg in (('rgb_pathway', rgb), ('pose_pathway', pose)):
            if 'type' in cfg:
                raise ValueError(f'RGBPoseConv3D: {name} takes ResNet3dPathway arguments without a type; got '
                                 f"type={cfg['type']!r}")
        if rgb.get('lateral_inv') or (pose.get('lateral') and not pose.get('lateral_inv')):
            raise ValueError('RGBPoseConv3D: laterals into the RGB pathway are forward ones and those into the pose '
                             'pathway inverse ones (pose_pathway lateral_inv=True, rgb_pathway lateral_inv=False)')
        rgb_points, pose_points = _fusion_point_channels(rgb), _fusion_point_channels(pose)
        if len(rgb_points) != len(pose_points) + 1:
            raise ValueError(f'RGBPoseConv3D: the RGB pathway needs one stage more than the pose pathway; got '
                             f'{len(rgb_points)} and {len(pose_points)} num_stages')
        self._check_active('rgb_pathway', rgb, first=2)
        self._check_active('pose_pathway', pose, first=1)
        for cfg in (rgb, pose):
            if cfg.get('lateral'):
                cfg.update(speed_ratio=speed_ratio, channel_ratio=channel_ratio)
        # RGB fusion point i meets pose fusion point i - 1: the two maps then have the same size
        rgb['lateral_in_channels'] = [0] + pose_points if rgb.get('lateral') else None
        pose['lateral_in_channels'] = rgb_points[1:] if pose.get('lateral') else None
        self.rgb_path = ResNet3dPathway(**rgb)
        self.pose_path = ResNet3dPathway(**pose)
        self.speed_ratio, self.channel_ratio = speed_ratio, channel_ratio

    @staticmethod
    def _check_active(name: str, cfg: dict, first: int) -> None:
        """Refuse a lateral at a fusion point where the pathways do not meet (mmaction2 builds it, then fails)."""
        active = tuple(cfg.get('lateral_activate', (1,) * cfg.get('num_stages', 4)))
        early = [f'stage {i + 1}' for i, on in enumerate(active[:first]) if on]
        if cfg.get('lateral') and early:
            raise ValueError(f'RGBPoseConv3D: {name}.lateral_activate={active} puts a lateral before '
                             f'{", ".join(early)}, where the pathways do not meet; they fuse only before its stage '
                             f'{first + 1} on (the first {first} flags must be 0)')

    @property
    def feature_specs(self) -> tuple[FeatureSpec, FeatureSpec]:
        """The RGB pathway's last stage (strides relative to the frames) and the pose pathway's (relative to the
        heatmaps), in forward's order."""
        rgb, pose = self.rgb_path.all_specs()[-1], self.pose_path.all_specs()[-1]
        return (FeatureSpec(f'rgb_path.{rgb.name}', rgb.channels, rgb.stride, rgb.temporal_stride, rgb.temporal_ops,
                            rgb.spatial_ops),
                FeatureSpec(f'pose_path.{pose.name}', pose.channels, pose.stride, pose.temporal_stride,
                            pose.temporal_ops, pose.spatial_ops))

    def _lateral(self, into: ResNet3dPathway, point: int, feature: torch.Tensor, detach: bool,
                 drop: bool) -> torch.Tensor | None:
        lateral = into.lateral_before(point)
        if lateral is None:
            return None
        out = lateral(feature.detach() if detach else feature)
        return torch.zeros_like(out) if drop else out

    def _fuse(self, stage: int, rgb: torch.Tensor, pose: torch.Tensor, drops: tuple[bool, bool]):
        """Both pathways after RGB stage ``stage + 1`` and pose stage ``stage``, each with the other's lateral."""
        if rgb.shape[3:] != pose.shape[3:]:
            raise ValueError(f'RGBPoseConv3D: after RGB stage {stage + 1} the frames give {tuple(rgb.shape[3:])} '
                             f'maps, the heatmaps {tuple(pose.shape[3:])} after pose stage {stage}: give heatmaps '
                             "a quarter of the frames' size (GeneratePoseTarget scaling=0.25)")
        into_rgb = self._lateral(self.rgb_path, stage + 1, pose, self.rgb_detach, drops[0])
        into_pose = self._lateral(self.pose_path, stage, rgb, self.pose_detach, drops[1])
        for joined, own, frames_of in ((into_rgb, rgb, 'frames'), (into_pose, pose, 'heatmaps')):
            if joined is not None and joined.shape[2] != own.shape[2]:
                raise ValueError(f'RGBPoseConv3D: the {frames_of} pathway has {own.shape[2]} frames before its '
                                 f'stage {stage + 1 if own is pose else stage + 2}, its lateral gives '
                                 f'{joined.shape[2]}: give speed_ratio={self.speed_ratio} heatmap frames per frame')
        rgb = rgb if into_rgb is None else torch.cat((rgb, into_rgb), dim=1)
        pose = pose if into_pose is None else torch.cat((pose, into_pose), dim=1)
        return rgb, pose

    def forward(self, imgs: torch.Tensor, heatmap_imgs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        for name, x in (('imgs', imgs), ('heatmap_imgs', heatmap_imgs)):
            if x.dim() != 5:
                raise ValueError(f'RGBPoseConv3D takes (N, C, T, H, W) {name}; got shape {tuple(x.shape)}')
        if self.training:
            drops = (bool(torch.rand(1) < self.rgb_drop_path), bool(torch.rand(1) < self.pose_drop_path))
        else:
            drops = (False, False)
        rgb = self.rgb_path.maxpool(self.rgb_path.stem_forward(imgs))
        pose = self.pose_path.maxpool(self.pose_path.stem_forward(heatmap_imgs))
        rgb_stages, pose_stages = self.rgb_path.stages(), self.pose_path.stages()
        rgb = rgb_stages[0](rgb)
        for k, pose_stage in enumerate(pose_stages, start=1):
            rgb, pose = rgb_stages[k](rgb), pose_stage(pose)
            if k < len(pose_stages):
                rgb, pose = self._fuse(k, rgb, pose, drops)
        return rgb, pose

    def describe(self) -> str:
        """Each pathway's per-stage table (the core's ``describe``) and the laterals into it."""
        return '\n'.join(['rgb_path: frames', self.rgb_path.describe(),
                          self.lateral_summary(self.rgb_path, 'pose -> rgb'),
                          f'pose_path: heatmaps, {self.speed_ratio}x the frames', self.pose_path.describe(),
                          self.lateral_summary(self.pose_path, 'rgb -> pose')])
