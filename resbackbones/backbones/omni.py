"""mmaction2's ``OmniResNet`` (OmniSource): one set of SlowOnly weights for videos and for still images.

The network is ResNet3dSlowOnly (a 1x7x7 stem, temporal kernels 3x1x1 in every block of stages 3-4, no temporal
stride) with batch norm momentum 0.01, built on the core like every other view. What it adds is a second kind of
input: an (N, C, H, W) image is treated as a clip in which nothing moves. On such a clip every tap of a temporal
kernel sees the same frame, so a 3x1x1 conv acts as the 1x1 conv with its taps summed; the image runs through the
same modules as a one-frame clip whose temporal kernels hold that sum at the centre tap (zero elsewhere, where a
one-frame clip only meets padding). Gradients reach every tap through the sum, and in training mode the image
batch normalises with its own statistics without moving the running ones (they stay the video's), as mmaction2's
2D forward does.
"""
from __future__ import annotations

import copy
from typing import Sequence

import torch
from torch import nn
from torch.func import functional_call

from ..registry import MODELS
from .resnet3d_slowonly import ResNet3dSlowOnly

OMNI_NORM = dict(type='BN3d', momentum=0.01)


def still_image_tensors(module: nn.Module) -> dict[str, torch.Tensor]:
    """Replacement tensors under which ``module`` maps a one-frame clip as it would a clip of that frame repeated
    (a still image): each temporal conv kernel's taps summed into its centre tap, and, in training mode, copies of
    the batch-norm running statistics (so that the image batch updates the copies, not the module).

    ValueError names a conv whose temporal padding is not centred (kernel // 2): its centre tap would not meet the
    frame.
    """
    tensors = {}
    for name, conv in module.named_modules():
        if isinstance(conv, nn.Conv3d) and conv.kernel_size[0] > 1:
            taps = conv.kernel_size[0]
            if conv.padding[0] != taps // 2 or taps % 2 == 0:
                raise ValueError(f'{name}: a still image needs an odd temporal kernel padded by kernel // 2; got '
                                 f'kernel {conv.kernel_size}, padding {conv.padding}')
            still = torch.zeros_like(conv.weight)
            still[:, :, taps // 2] = conv.weight.sum(dim=2)
            tensors[f'{name}.weight'] = still
    if module.training:
        for name, buffer in module.named_buffers():
            if name.endswith(('running_mean', 'running_var', 'num_batches_tracked')):
                tensors[name] = buffer.clone()
    return tensors


@MODELS.register_module()
class OmniResNet(ResNet3dSlowOnly):
    """mmaction2's OmniResNet: (N, C, T, H, W) clips and (N, C, H, W) images through one SlowOnly network.

    Args:
        layers: blocks per stage (mmaction2's name; bottleneck blocks, ResNet-50's (3, 4, 6, 3) by default).
        pretrain_2d: a 2D ResNet checkpoint (torchvision's, or any source ``load_pretrained`` reads) inflated into
            the network when weights are initialised (mmaction2's ``init_from_2d``: each kernel repeated over its
            taps and divided by their number).
        kwargs: other ResNet3dSlowOnly arguments (e.g. ``base_channels`` for tiny tests, ``out_indices``).

    Returns a tuple of the declared outputs: (N, C_i, T, H_i, W_i) for clips, (N, C_i, H_i, W_i) for images.
    mmaction2's checkpoints (``backbone.conv1.weight``, ``backbone.layer1.0.downsample.0.weight`` ...) load key for
    key: the core's names are theirs.
    """

    def __init__(self, layers: Sequence[int] = (3, 4, 6, 3), pretrain_2d: str | None = None,
                 norm_cfg: dict | None = None, **kwargs):
        if 'depth' in kwargs or 'stage_blocks' in kwargs:
            raise ValueError('OmniResNet: give the blocks per stage as layers (mmaction2), not depth/stage_blocks')
        if pretrain_2d is not None and ('pretrained' in kwargs or 'init_cfg' in kwargs):
            raise ValueError('OmniResNet: give pretrain_2d or pretrained/init_cfg, not both')
        if pretrain_2d is not None:
            kwargs['pretrained'] = pretrain_2d
        super().__init__(depth=50, stage_blocks=tuple(layers), norm_cfg=norm_cfg or dict(OMNI_NORM), **kwargs)
        self.images_only = False  # True in still_image_copy's copies: their temporal kernels hold the sums

    def still_image_copy(self) -> OmniResNet:
        """An eval-mode copy for images only, its temporal kernels replaced by their still-image form once, so
        that images run through plain modules: what deployment exports (the swapped tensors of the image path are
        neither traceable by torch.jit nor constant weights for PT2E's quantizer). Same keys; it refuses clips."""
        still = copy.deepcopy(self).eval()
        with torch.no_grad():
            for name, tensor in still_image_tensors(still).items():
                still.get_parameter(name).copy_(tensor)
        still.images_only = True
        return still

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        if x.dim() == 5 and not self.images_only:
            return super().forward(x)
        if x.dim() != 4:
            takes = 'is a still-image copy: it takes' if self.images_only else 'takes (N, C, T, H, W) clips or'
            raise ValueError(f'OmniResNet {takes} (N, C, H, W) images; got shape {tuple(x.shape)}')
        if self.images_only:
            outs = super().forward(x.unsqueeze(2))
        else:
            outs = functional_call(self, still_image_tensors(self), (x.unsqueeze(2),), strict=False,
                                   tie_weights=False)
        return tuple(out.squeeze(2) for out in outs)
