"""Named video backbones: mmaction2's and torchvision's settings as rows over the one core (like named.py).

``video_model_config('r2plus1d_18')`` gives the backbone config; wrap it in a Recognizer3D (or, for TSM, the 2D
recognizer) to classify. torchvision's rows load its checkpoints (``load_pretrained``; source 'torchvision_video').
"""
from __future__ import annotations

from .named import lookup, matching

I3D_INFLATE = ((1, 1, 1), (1, 0, 1, 0), (1, 0, 1, 0, 1, 0), (0, 1, 0))
I3D = dict(type='ResNet3d', depth=50, conv1_kernel=(5, 7, 7), conv1_stride_t=2, pool1_stride_t=2,
           inflate=I3D_INFLATE)
# torchvision's VideoResNet: a stride-(1, 2, 2) stem without max-pool, no pool2.
TORCHVISION = dict(conv1_kernel=(3, 7, 7), with_pool1=False)

VIDEO_MODELS: dict[str, dict] = {
    # mmaction2 (configs/_base_/models and the recognition configs)
    'i3d_r50': I3D,
    'i3d_nl_r50': dict(I3D, non_local=((0, 0, 0), (0, 1, 0, 1), (0, 1, 0, 1, 0, 1), (0, 0, 0)),
                       non_local_cfg=dict(sub_sample=True, use_scale=False,
                                          norm_cfg=dict(type='BN3d', requires_grad=True), mode='embedded_gaussian')),
    'slowonly_r50': dict(type='ResNet3d', depth=50, conv1_kernel=(1, 7, 7), inflate=(0, 0, 1, 1), with_pool2=False),
    'slowonly_r101': dict(type='ResNet3d', depth=101, conv1_kernel=(1, 7, 7), inflate=(0, 0, 1, 1),
                          with_pool2=False),
    'r2plus1d_34': dict(type='ResNet2Plus1d', depth=34),  # mmaction2's r2plus1d_r34 backbone settings
    'c2d_r50': dict(type='C2D', depth=50),
    'ircsn_r152': dict(type='ResNet3dCSN', depth=152, bottleneck_mode='ir', with_pool2=False),
    'ipcsn_r152': dict(type='ResNet3dCSN', depth=152, bottleneck_mode='ip', with_pool2=False),
    'tsm_r50': dict(type='ResNetTSM', depth=50, num_segments=8),
    'tin_r50': dict(type='ResNetTIN', depth=50, num_segments=8, shift_div=4),
    # torchvision.models.video
    'r3d_18': dict(type='ResNet3d', depth=18, with_pool2=False, temporal_strides=(1, 2, 2, 2), **TORCHVISION),
    'mc3_18': dict(type='ResNet3d', depth=18, with_pool2=False, inflate=(1, 0, 0, 0), **TORCHVISION),
    'r2plus1d_18': dict(type='ResNet2Plus1d', depth=18, stem_mid_channels=45, mid_channels_from='block', **TORCHVISION),
    'r2plus1d_34_tv': dict(type='ResNet2Plus1d', depth=34, stem_mid_channels=45, mid_channels_from='block',
                           **TORCHVISION),  # torchvision-style
}


def list_video_models(pattern: str = '*') -> list[str]:
    """Names of the named video backbones matching a shell-style ``pattern``, sorted."""
    return matching(VIDEO_MODELS, pattern)


def video_model_config(name: str, **overrides) -> dict:
    """The backbone config of a named video model with ``overrides`` applied; ValueError suggests close names."""
    return {**lookup(VIDEO_MODELS, name, 'video model'), **overrides}
