"""mmaction2's video backbones written out from their definitions, for parity tests (mmaction2 and full mmcv do not
install on current torch).

Written from open-mmlab/mmaction2 (mmaction/models/backbones/resnet3d.py, resnet_tsm.py, resnet.py,
resnet2plus1d.py, resnet3d_csn.py, c2d.py, resnet_tin.py, resnet3d_slowfast.py,
tanet.py, mmaction/models/common/conv2plus1d.py, tam.py, mmaction/models/heads/trn_head.py, slowfast_head.py,
necks/tpn.py) and mmcv
(mmcv/cnn/bricks/non_local.py, conv_module.py), keeping their module names so a ``state_dict()`` of these classes
has the keys of an mmaction2 checkpoint. Only what the tests use: ResNet3d with bottleneck or basic blocks, the
'3x1x1' inflation, pool2 and non-local blocks; ResNetTSM (2D ResNet-50, 'blockres' / 'block' temporal shift);
ResNet2Plus1d (basic blocks, every ConvModule's conv a Conv2plus1d); ResNet3dCSN (ir / ip bottlenecks); C2D;
ResNetTIN (mmcv's tin_shift CUDA kernel as loops); TRNHead; SlowFast (bottleneck pathways, ConvModule laterals)
and its head; the TPN neck (two levels, its configs' unit up/down-sampling) with its auxiliary head; TANet (TAM
with its grouped conv2d over time, TABlock wrappers).
Independent of resbackbones on purpose: nothing here imports it.
"""
from __future__ import annotations

import itertools
import random
import re

import numpy as np
import torch
from torch import nn


def _triple(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v, v)


class Conv2plus1d(nn.Module):
    """mmaction2's Conv2plus1d: conv_s (1 x k x k) -> bn_s -> ReLU -> conv_t (t x 1 x 1); middle width
    int(3 in out k^2 / (in k^2 + 3 out)) whatever t is."""

    def __init__(self, cin, cout, kernel, stride=1, padding=0, dilation=1, bias=False):
        super().__init__()
        k, s, p, d = _triple(kernel), _triple(stride), _triple(padding), _triple(dilation)
        mid = int(3 * (cin * cout * k[1] * k[2]) / (cin * k[1] * k[2] + 3 * cout))
        self.conv_s = nn.Conv3d(cin, mid, (1, k[1], k[2]), (1, s[1], s[2]), (0, p[1], p[2]), (1, d[1], d[2]),
                                bias=bias)
        self.bn_s = nn.BatchNorm3d(mid)
        self.relu = nn.ReLU(inplace=True)
        self.conv_t = nn.Conv3d(mid, cout, (k[0], 1, 1), (s[0], 1, 1), (p[0], 0, 0), bias=bias)

    def forward(self, x):
        return self.conv_t(self.relu(self.bn_s(self.conv_s(x))))


class ConvModule(nn.Module):
    """mmcv ConvModule: conv (bias only without norm), then 'bn' norm, then optional ReLU; ``factorised``: its conv
    is a Conv2plus1d (mmaction2's conv_cfg=dict(type='Conv2plus1d'))."""

    def __init__(self, cin, cout, kernel, stride=1, padding=0, dilation=1, dims=3, norm=True, act=True, bias=None,
                 factorised=False, groups=1, eps=1e-5):
        super().__init__()
        conv, bn = (nn.Conv3d, nn.BatchNorm3d) if dims == 3 else (nn.Conv2d, nn.BatchNorm2d)
        extra = {} if factorised else {'groups': groups}
        conv = Conv2plus1d if factorised else conv
        self.conv = conv(cin, cout, kernel, stride, padding, dilation, bias=(not norm) if bias is None else bias,
                         **extra)
        self.with_norm, self.with_act = norm, act
        if norm:
            self.bn = bn(cout, eps=eps)
        if act:
            self.activate = nn.ReLU(inplace=True)

    def forward(self, x):
        x = self.conv(x)
        if self.with_norm:
            x = self.bn(x)
        return self.activate(x) if self.with_act else x


class NonLocal3d(nn.Module):
    """mmcv's _NonLocalNd + NonLocal3d (conv_cfg Conv3d), all four modes."""

    def __init__(self, in_channels, reduction=2, use_scale=True, norm_cfg=None, mode='embedded_gaussian',
                 sub_sample=False):
        super().__init__()
        self.in_channels, self.use_scale, self.mode, self.sub_sample = in_channels, use_scale, mode, sub_sample
        self.inter_channels = max(in_channels // reduction, 1)
        inter = self.inter_channels
        self.g = ConvModule(in_channels, inter, 1, norm=False, act=False)
        self.conv_out = ConvModule(inter, in_channels, 1, norm=norm_cfg is not None, act=False)
        if mode != 'gaussian':
            self.theta = ConvModule(in_channels, inter, 1, norm=False, act=False)
            self.phi = ConvModule(in_channels, inter, 1, norm=False, act=False)
        if mode == 'concatenation':
            self.concat_project = ConvModule(inter * 2, 1, 1, dims=2, norm=False, act=True, bias=False)
        if sub_sample:
            pool = nn.MaxPool3d(kernel_size=(1, 2, 2))
            self.g = nn.Sequential(self.g, pool)
            self.phi = nn.Sequential(self.phi, pool) if mode != 'gaussian' else pool

    def forward(self, x):
        n = x.size(0)
        g_x = self.g(x).view(n, self.inter_channels, -1).permute(0, 2, 1)
        if self.mode == 'gaussian':
            theta_x = x.view(n, self.in_channels, -1).permute(0, 2, 1)
            phi_x = (self.phi(x) if self.sub_sample else x).view(n, self.in_channels, -1)
        elif self.mode == 'concatenation':
            theta_x = self.theta(x).view(n, self.inter_channels, -1, 1)
            phi_x = self.phi(x).view(n, self.inter_channels, 1, -1)
        else:
            theta_x = self.theta(x).view(n, self.inter_channels, -1).permute(0, 2, 1)
            phi_x = self.phi(x).view(n, self.inter_channels, -1)
        if self.mode == 'concatenation':
            h, w = theta_x.size(2), phi_x.size(3)
            feat = torch.cat([theta_x.repeat(1, 1, 1, w), phi_x.repeat(1, 1, h, 1)], dim=1)
            pw = self.concat_project(feat)
            pw = pw.view(pw.size(0), pw.size(2), pw.size(3))
            pw /= pw.shape[-1]
        else:
            pw = torch.matmul(theta_x, phi_x)
            if self.mode == 'dot_product':
                pw /= pw.shape[-1]
            else:
                if self.mode == 'embedded_gaussian' and self.use_scale:
                    pw /= theta_x.shape[-1] ** 0.5
                pw = pw.softmax(dim=-1)
        y = torch.matmul(pw, g_x).permute(0, 2, 1).contiguous().reshape(n, self.inter_channels, *x.size()[2:])
        return x + self.conv_out(y)


class Bottleneck3d(nn.Module):
    """mmaction2's Bottleneck3d, style 'pytorch', inflate_style '3x1x1'."""

    expansion = 4

    def __init__(self, inplanes, planes, spatial_stride=1, temporal_stride=1, downsample=None, inflate=True,
                 non_local=False, non_local_cfg=None):
        super().__init__()
        k1, p1 = ((3, 1, 1), (1, 0, 0)) if inflate else (1, 0)
        self.conv1 = ConvModule(inplanes, planes, k1, 1, p1)
        self.conv2 = ConvModule(planes, planes, (1, 3, 3), (temporal_stride, spatial_stride, spatial_stride),
                                (0, 1, 1))
        self.conv3 = ConvModule(planes, planes * 4, 1, act=False)
        self.downsample, self.relu, self.non_local = downsample, nn.ReLU(inplace=True), non_local
        if non_local:
            self.non_local_block = NonLocal3d(planes * 4, **non_local_cfg)

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.conv3(self.conv2(self.conv1(x))) + identity)
        return self.non_local_block(out) if self.non_local else out


class ResNet3d(nn.Module):
    """mmaction2's ResNet3d (bottleneck depths), returning the last stage's output."""

    def __init__(self, stage_blocks, base_channels=64, conv1_kernel=(5, 7, 7), conv1_stride_t=2, pool1_stride_t=2,
                 inflate=((1,) * 3, (1, 0) * 2, (1, 0) * 3, (0, 1, 0)), non_local=((0,) * 3, (0,) * 4, (0,) * 6,
                 (0,) * 3), non_local_cfg=None):
        super().__init__()
        t = conv1_kernel[0]
        self.conv1 = ConvModule(3, base_channels, conv1_kernel, (conv1_stride_t, 2, 2), ((t - 1) // 2, 3, 3))
        self.maxpool = nn.MaxPool3d((1, 3, 3), (pool1_stride_t, 2, 2), (0, 1, 1))
        self.pool2 = nn.MaxPool3d((2, 1, 1), (2, 1, 1))
        inplanes = base_channels
        self.num_stages = len(stage_blocks)
        for i, n in enumerate(stage_blocks):
            planes, stride = base_channels * 2**i, 1 if i == 0 else 2
            down = ConvModule(inplanes, planes * 4, 1, (1, stride, stride), act=False)
            blocks = [Bottleneck3d(inplanes if j == 0 else planes * 4, planes, stride if j == 0 else 1, 1,
                                   down if j == 0 else None, bool(inflate[i][j]), bool(non_local[i][j]),
                                   non_local_cfg) for j in range(n)]
            self.add_module(f'layer{i + 1}', nn.Sequential(*blocks))
            inplanes = planes * 4

    def forward(self, x):
        x = self.maxpool(self.conv1(x))
        for i in range(self.num_stages):
            x = getattr(self, f'layer{i + 1}')(x)
            if i == 0:
                x = self.pool2(x)
        return x


class BasicBlock3d(nn.Module):
    """mmaction2's BasicBlock3d, inflated (3 x 3 x 3 convs), strides on conv1, as R(2+1)D builds it."""

    expansion = 1

    def __init__(self, inplanes, planes, spatial_stride=1, temporal_stride=1, downsample=None, factorised=True,
                 eps=1e-5):
        super().__init__()
        self.conv1 = ConvModule(inplanes, planes, 3, (temporal_stride, spatial_stride, spatial_stride), 1,
                                factorised=factorised, eps=eps)
        self.conv2 = ConvModule(planes, planes, 3, 1, 1, act=False, factorised=factorised, eps=eps)
        self.downsample, self.relu = downsample, nn.ReLU(inplace=True)

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(self.conv2(self.conv1(x)) + identity)


class ResNet2Plus1d(nn.Module):
    """mmaction2's ResNet2Plus1d (r2plus1d_r34 settings): (2+1)D stem 3x7x7 + max-pool, every block inflated,
    temporal strides (1, 2, 2, 2), no pool2; every conv a Conv2plus1d, the 1 x 1 x 1 shortcut convs included.
    ``eps``: of the norms norm_cfg builds (the ConvModules'); each Conv2plus1d's own bn_s keeps BN3d's default."""

    def __init__(self, stage_blocks=(3, 4, 6, 3), base_channels=64, eps=1e-5):
        super().__init__()
        self.conv1 = ConvModule(3, base_channels, (3, 7, 7), (1, 2, 2), (1, 3, 3), factorised=True, eps=eps)
        self.maxpool = nn.MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1))
        inplanes = base_channels
        self.num_stages = len(stage_blocks)
        for i, n in enumerate(stage_blocks):
            planes, stride = base_channels * 2**i, 1 if i == 0 else 2
            down = None
            if stride != 1 or inplanes != planes:
                down = ConvModule(inplanes, planes, 1, stride, act=False, factorised=True, eps=eps)
            blocks = [BasicBlock3d(inplanes if j == 0 else planes, planes, stride if j == 0 else 1,
                                   stride if j == 0 else 1, down if j == 0 else None, eps=eps) for j in range(n)]
            self.add_module(f'layer{i + 1}', nn.Sequential(*blocks))
            inplanes = planes

    def forward(self, x):
        x = self.maxpool(self.conv1(x))
        for i in range(self.num_stages):
            x = getattr(self, f'layer{i + 1}')(x)
        return x


def temporal_shift(x, num_segments, shift_div=3):
    """mmaction2's TemporalShift.shift, as written there (concatenations of slices, zeros made as x - x)."""
    n, c, h, w = x.size()
    x = x.view(-1, num_segments, c, h * w)
    fold = c // shift_div
    left_split, mid_split, right_split = x[:, :, :fold, :], x[:, :, fold:2 * fold, :], x[:, :, 2 * fold:, :]
    zeros = left_split - left_split
    left_split = torch.cat((left_split[:, 1:, :, :], zeros[:, :1, :, :]), 1)
    zeros = mid_split - mid_split
    mid_split = torch.cat((zeros[:, :1, :, :], mid_split[:, :-1, :, :]), 1)
    return torch.cat((left_split, mid_split, right_split), 2).view(n, c, h, w)


class TemporalShift(nn.Module):
    """mmaction2's TemporalShift: shift, then the wrapped ``net``."""

    def __init__(self, net, num_segments=3, shift_div=8):
        super().__init__()
        self.net, self.num_segments, self.shift_div = net, num_segments, shift_div

    def forward(self, x):
        return self.net(temporal_shift(x, self.num_segments, self.shift_div))


class Bottleneck2d(nn.Module):
    """mmaction2's 2D ResNet Bottleneck (style 'pytorch'): ConvModules conv1/conv2/conv3."""

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = ConvModule(inplanes, planes, 1, dims=2)
        self.conv2 = ConvModule(planes, planes, 3, stride, 1, dims=2)
        self.conv3 = ConvModule(planes, planes * 4, 1, dims=2, act=False)
        self.downsample, self.relu = downsample, nn.ReLU(inplace=True)

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(self.conv3(self.conv2(self.conv1(x))) + identity)


def bottleneck2d_stages(stage_blocks, base_channels):
    """mmaction2's 2D ResNet stages: per stage, the list of its Bottleneck2d blocks (strides on the first)."""
    stages, inplanes = [], base_channels
    for i, n in enumerate(stage_blocks):
        planes, stride = base_channels * 2**i, 1 if i == 0 else 2
        down = ConvModule(inplanes, planes * 4, 1, stride, dims=2, act=False)
        stages.append([Bottleneck2d(inplanes if j == 0 else planes * 4, planes, stride if j == 0 else 1,
                                    down if j == 0 else None) for j in range(n)])
        inplanes = planes * 4
    return stages


class Stages2d(nn.Module):
    """mmaction2's 2D ResNet stem (7x7 stride-2 ConvModule, padded 3x3 max-pool), then layer1..N."""

    def __init__(self, stages, base_channels):
        super().__init__()
        self.conv1 = ConvModule(3, base_channels, 7, 2, 3, dims=2)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.num_stages = len(stages)
        for i, blocks in enumerate(stages):
            self.add_module(f'layer{i + 1}', nn.Sequential(*blocks))

    def forward(self, x):
        x = self.maxpool(self.conv1(x))
        for i in range(self.num_stages):
            x = getattr(self, f'layer{i + 1}')(x)
        return x


class TAM(nn.Module):
    """mmaction2's TAM: per-clip kernels from G, per-frame gates from L, then one grouped conv2d over time."""

    def __init__(self, in_channels, num_segments, alpha=2, adaptive_kernel_size=3, beta=4, conv1d_kernel_size=3,
                 adaptive_convolution_stride=1, adaptive_convolution_padding=1):
        super().__init__()
        self.t, self.stride, self.padding = num_segments, adaptive_convolution_stride, adaptive_convolution_padding
        self.G = nn.Sequential(nn.Linear(num_segments, num_segments * alpha, bias=False),
                               nn.BatchNorm1d(num_segments * alpha), nn.ReLU(inplace=True),
                               nn.Linear(num_segments * alpha, adaptive_kernel_size, bias=False), nn.Softmax(-1))
        self.L = nn.Sequential(nn.Conv1d(in_channels, in_channels // beta, conv1d_kernel_size, stride=1,
                                         padding=conv1d_kernel_size // 2, bias=False),
                               nn.BatchNorm1d(in_channels // beta), nn.ReLU(inplace=True),
                               nn.Conv1d(in_channels // beta, in_channels, 1, bias=False), nn.Sigmoid())

    def forward(self, x):
        n, c, h, w = x.size()
        b = n // self.t
        x = x.view(b, self.t, c, h, w).permute(0, 2, 1, 3, 4).contiguous()
        theta = nn.functional.adaptive_avg_pool2d(x.view(-1, self.t, h, w), (1, 1))
        kernel = self.G(theta.view(-1, self.t)).view(b * c, 1, -1, 1)
        gate = self.L(theta.view(-1, c, self.t)).view(b, c, self.t, 1, 1)
        y = nn.functional.conv2d((x * gate).view(1, b * c, self.t, h * w), kernel, None, (self.stride, 1),
                                 (self.padding, 0), groups=b * c)
        return y.view(b, c, self.t, h, w).permute(0, 2, 1, 3, 4).contiguous().view(n, c, h, w)


class TABlock(nn.Module):
    """mmaction2's TABlock: the wrapped bottleneck ``block`` with ``tam`` between its conv1 and conv2."""

    def __init__(self, block, num_segments, tam_cfg):
        super().__init__()
        self.block, self.tam = block, TAM(block.conv1.conv.out_channels, num_segments, **tam_cfg)

    def forward(self, x):
        b = self.block
        out = b.conv3(b.conv2(self.tam(b.conv1(x))))
        return b.relu(out + (x if b.downsample is None else b.downsample(x)))


class TANet(Stages2d):
    def __init__(self, stage_blocks, base_channels=64, num_segments=8, tam_cfg=None):
        stages = [[TABlock(b, num_segments, tam_cfg or {}) for b in blocks]
                  for blocks in bottleneck2d_stages(stage_blocks, base_channels)]
        super().__init__(stages, base_channels)


class NL3DWrapper(nn.Module):
    """mmaction2's NL3DWrapper: the block, then a NonLocal3d over each clip's frames."""

    def __init__(self, block, num_segments, non_local_cfg):
        super().__init__()
        self.block, self.num_segments = block, num_segments
        self.non_local_block = NonLocal3d(block.conv3.bn.num_features, **non_local_cfg)

    def forward(self, x):
        x = self.block(x)
        n, c, h, w = x.size()
        x = x.view(n // self.num_segments, self.num_segments, c, h, w).transpose(1, 2).contiguous()
        x = self.non_local_block(x)
        return x.transpose(1, 2).contiguous().view(n, c, h, w)


class ResNetTSM(Stages2d):
    """mmaction2's ResNetTSM over its 2D ResNet (bottlenecks), shift_place 'blockres' or 'block', non-local
    wrappers after the flagged blocks (applied after the shifts, as its init_structure does)."""

    def __init__(self, stage_blocks, base_channels=64, num_segments=8, shift_div=8, shift_place='blockres',
                 non_local=None, non_local_cfg=None):
        stages = bottleneck2d_stages(stage_blocks, base_channels)
        n_round = 2 if len(stage_blocks) > 2 and stage_blocks[2] >= 23 else 1
        for i, blocks in enumerate(stages):
            for j, b in enumerate(blocks):
                if shift_place == 'block':
                    blocks[j] = TemporalShift(b, num_segments, shift_div)
                elif j % n_round == 0:
                    b.conv1.conv = TemporalShift(b.conv1.conv, num_segments, shift_div)
                if non_local is not None and non_local[i][j]:
                    blocks[j] = NL3DWrapper(blocks[j], num_segments, non_local_cfg)
        super().__init__(stages, base_channels)


def tin_shift(data, shift):
    """mmcv's tin_shift kernel as loops: out[n, t + s] = data[n, t] for the channels of the group s belongs to."""
    n, t, c, _ = data.shape
    out, per_group = torch.zeros_like(data), c // shift.shape[1]
    for b in range(n):
        for j in range(c):
            s = int(shift[b, j // per_group])
            for i in range(max(0, -s), min(t, t - s)):
                out[b, i + s, j] = data[b, i, j]
    return out


class TemporalInterlace(nn.Module):
    """mmaction2's TemporalInterlace (OffsetNet, WeightNet, linear_sampler), 2 offset groups."""

    def __init__(self, in_channels, num_segments, shift_div):
        super().__init__()
        self.t, self.folds = num_segments, in_channels // shift_div
        self.offset_net = nn.Module()
        self.offset_net.conv = nn.Conv1d(self.folds, 1, 3, padding=1)
        self.offset_net.fc1, self.offset_net.fc2 = nn.Linear(self.t, self.t), nn.Linear(self.t, 2)
        self.weight_net = nn.Module()
        self.weight_net.conv = nn.Conv1d(self.folds, 2, 3, padding=1)

    def forward(self, x):
        n, c, h, w = x.shape
        b, k = n // self.t, self.folds
        part = x[:, :k].reshape(b, self.t, k, h, w)
        pooled = part.mean(3).mean(3).permute(0, 2, 1)
        o = self.offset_net
        offset = o.fc2(torch.relu(o.fc1(o.conv(pooled).view(b, self.t)))).view(b, 1, -1)
        offset = (4 * (torch.sigmoid(offset) - 0.5)).view(b, -1)
        weight = 2 * torch.sigmoid(self.weight_net.conv(pooled).view(b, 2, self.t).permute(0, 2, 1))
        offset = torch.cat([offset, -offset], 1)
        low = torch.floor(offset).int()
        flat = part.reshape(b, self.t, k, h * w)
        w0 = (1 - (offset - low.float()))[:, :, None].repeat(1, 1, k // 4).view(b, -1)[:, None, :, None]
        shifted = w0 * tin_shift(flat, low) + (1 - w0) * tin_shift(flat, low + 1)
        weight = weight[:, :, :, None].repeat(1, 1, 2, k // 4).view(b, self.t, -1)[:, :, :, None]
        out = x.clone()
        out[:, :k] = (shifted * weight).view(b, self.t, k, h, w).reshape(n, k, h, w)
        return out


class CombineNet(nn.Module):
    """mmaction2's CombineNet: net1 (the interlace), then net2 (the wrapped conv)."""

    def __init__(self, net1, net2):
        super().__init__()
        self.net1, self.net2 = net1, net2

    def forward(self, x):
        return self.net2(self.net1(x))


class ResNetTIN(Stages2d):
    """mmaction2's ResNetTIN: its 2D ResNet (bottlenecks) with every block's conv1.conv wrapped by an interlace."""

    def __init__(self, stage_blocks, base_channels=64, num_segments=8, shift_div=4):
        stages = bottleneck2d_stages(stage_blocks, base_channels)
        for b in (b for blocks in stages for b in blocks):
            b.conv1.conv = CombineNet(TemporalInterlace(b.conv1.conv.in_channels, num_segments, shift_div),
                                      b.conv1.conv)
        super().__init__(stages, base_channels)


class C2D(nn.Module):
    """mmaction2's C2D: its 2D ResNet (bottlenecks) over N x T frames, an unpadded 3x3 stride-2 max-pool after the
    stem, and a (2, 1, 1) temporal max-pool after the first stage; returns (N, C, T', H', W')."""

    def __init__(self, stage_blocks, base_channels=64):
        super().__init__()
        self.conv1 = ConvModule(3, base_channels, 7, 2, 3, dims=2)
        self.maxpool3d_1 = nn.MaxPool3d((1, 3, 3), (1, 2, 2), (0, 0, 0))
        self.maxpool3d_2 = nn.MaxPool3d((2, 1, 1), (2, 1, 1))
        self.num_stages = len(stage_blocks)
        for i, blocks in enumerate(bottleneck2d_stages(stage_blocks, base_channels)):
            self.add_module(f'layer{i + 1}', nn.Sequential(*blocks))

    def forward(self, x):
        n = x.shape[0]
        to_2d = lambda t: t.transpose(1, 2).flatten(0, 1)  # noqa: E731  (N, C, T, H, W) -> (N T, C, H, W)
        to_3d = lambda t: t.view(n, -1, *t.shape[1:]).transpose(1, 2)  # noqa: E731
        x = to_2d(self.maxpool3d_1(to_3d(self.conv1(to_2d(x)))))
        for i in range(self.num_stages):
            x = getattr(self, f'layer{i + 1}')(x)
            if i == 0:
                x = to_2d(self.maxpool3d_2(to_3d(x)))
        return to_3d(x)


class CSNBottleneck3d(nn.Module):
    """mmaction2's CSNBottleneck3d, style 'pytorch', inflate_style '3x3x3' (1x1x1 conv1): conv2 is a Sequential of
    a 1x1x1 ConvModule without activation ('ip' only) and the depthwise 3x3x3 ConvModule; BN eps 1e-3."""

    def __init__(self, inplanes, planes, spatial_stride=1, temporal_stride=1, downsample=None, mode='ir'):
        super().__init__()
        eps = 1e-3
        self.conv1 = ConvModule(inplanes, planes, 1, eps=eps)
        conv2 = [ConvModule(planes, planes, 1, act=False, eps=eps)] if mode == 'ip' else []
        conv2.append(ConvModule(planes, planes, 3, (temporal_stride, spatial_stride, spatial_stride), 1,
                                groups=planes, eps=eps))
        self.conv2 = nn.Sequential(*conv2)
        self.conv3 = ConvModule(planes, planes * 4, 1, act=False, eps=eps)
        self.downsample, self.relu = downsample, nn.ReLU(inplace=True)

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(self.conv3(self.conv2(self.conv1(x))) + identity)


class ResNet3dCSN(nn.Module):
    """mmaction2's ResNet3dCSN with its defaults: 3x7x7 stem without temporal stride, temporal strides (1, 2, 2, 2)
    on conv2 and the shortcut, with_pool2=False (its ircsn/ipcsn configs)."""

    def __init__(self, stage_blocks=(3, 4, 6, 3), base_channels=64, mode='ir'):
        super().__init__()
        self.conv1 = ConvModule(3, base_channels, (3, 7, 7), (1, 2, 2), (1, 3, 3), eps=1e-3)
        self.maxpool = nn.MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1))
        inplanes, self.num_stages = base_channels, len(stage_blocks)
        for i, n in enumerate(stage_blocks):
            planes, stride = base_channels * 2**i, 1 if i == 0 else 2
            down = ConvModule(inplanes, planes * 4, 1, (stride, stride, stride), act=False, eps=1e-3)
            blocks = [CSNBottleneck3d(inplanes if j == 0 else planes * 4, planes, stride if j == 0 else 1,
                                      stride if j == 0 else 1, down if j == 0 else None, mode) for j in range(n)]
            self.add_module(f'layer{i + 1}', nn.Sequential(*blocks))
            inplanes = planes * 4

    def forward(self, x):
        x = self.maxpool(self.conv1(x))
        for i in range(self.num_stages):
            x = getattr(self, f'layer{i + 1}')(x)
        return x


class DeConvModule(nn.Module):
    """mmaction2's DeConvModule (RGBPoseConv3D's inverse laterals): transposed conv to stride x the input's
    size, BN, ReLU."""

    def __init__(self, cin, cout, kernel, stride, padding):
        super().__init__()
        self.conv = nn.ConvTranspose3d(cin, cout, kernel, stride, padding, bias=False)
        self.bn, self.relu, self.stride = nn.BatchNorm3d(cout), nn.ReLU(), stride

    def forward(self, x):
        n, _, t, h, w = x.shape
        size = (n, self.conv.out_channels, self.stride[0] * t, self.stride[1] * h, self.stride[2] * w)
        return self.relu(self.bn(self.conv(x, output_size=size)))


class SlowFastPathway(nn.Module):
    """mmaction2's ResNet3dPathway, bottleneck depths, no pool2 (SlowFast and RGBPoseConv3D never run it). With
    ``lateral``, the stages' first blocks take the lateral channels mmaction2's _calculate_lateral_inplanes gives
    (width w after the stem / a stage: w * lateral_infl // channel_ratio, or inverse w * channel_ratio //
    lateral_infl), and the laterals ``conv1_lateral``, ``layerN_lateral`` are ConvModules from w // channel_ratio
    (or DeConvModules from w * channel_ratio) to those."""

    def __init__(self, stage_blocks, base_channels, conv1_kernel, inflate, lateral=False, speed_ratio=8,
                 channel_ratio=8, fusion_kernel=5, lateral_norm=False, in_channels=3, stem_stride=2, first_stride=1,
                 lateral_infl=2, lateral_activate=None, lateral_inv=False):
        super().__init__()
        t = conv1_kernel[0]
        self.conv1 = ConvModule(in_channels, base_channels, conv1_kernel, (1, stem_stride, stem_stride),
                                ((t - 1) // 2, 3, 3))
        self.maxpool = nn.MaxPool3d((1, 3, 3), (1, stem_stride, stem_stride), (0, 1, 1))
        widths = [base_channels] + [base_channels * 2**i * 4 for i in range(len(stage_blocks) - 1)]  # fusion points
        active = [bool(lateral) and bool(on) for on in (lateral_activate or (1,) * len(stage_blocks))]
        extra = [(w * channel_ratio // lateral_infl if lateral_inv else w * lateral_infl // channel_ratio) if on
                 else 0 for w, on in zip(widths, active)]
        inplanes, self.num_stages = base_channels, len(stage_blocks)
        for i, n in enumerate(stage_blocks):
            planes, stride = base_channels * 2**i, first_stride if i == 0 else 2
            down = ConvModule(inplanes + extra[i], planes * 4, 1, (1, stride, stride), act=False)
            blocks = [Bottleneck3d(inplanes + extra[i] if j == 0 else planes * 4, planes, stride if j == 0 else 1, 1,
                                   down if j == 0 else None, bool(inflate[i])) for j in range(n)]
            self.add_module(f'layer{i + 1}', nn.Sequential(*blocks))
            inplanes = planes * 4
        for i, (w, e) in enumerate(zip(widths, extra)):
            if not e:
                continue
            name, kernel = 'conv1_lateral' if i == 0 else f'layer{i}_lateral', (fusion_kernel, 1, 1)
            padding = ((fusion_kernel - 1) // 2, 0, 0)
            self.add_module(name, DeConvModule(w * channel_ratio, e, kernel, (speed_ratio, 1, 1), padding)
                            if lateral_inv else ConvModule(w // channel_ratio, e, kernel, (speed_ratio, 1, 1), padding,
                                                           bias=False, norm=lateral_norm, act=lateral_norm))


class SlowFast(nn.Module):
    """mmaction2's ResNet3dSlowFast forward: nearest temporal resampling for each pathway, laterals concatenated
    to the slow pathway after its stem and after every stage but the last; returns (slow, fast)."""

    def __init__(self, resample_rate, speed_ratio, channel_ratio, slow, fast):
        super().__init__()
        self.resample_rate, self.speed_ratio = resample_rate, speed_ratio
        self.slow_path = SlowFastPathway(lateral=True, speed_ratio=speed_ratio, channel_ratio=channel_ratio, **slow)
        self.fast_path = SlowFastPathway(**fast)

    def forward(self, x):
        def resample(rate):
            return nn.functional.interpolate(x, mode='nearest', scale_factor=(1.0 / rate, 1.0, 1.0))
        slow = self.slow_path.maxpool(self.slow_path.conv1(resample(self.resample_rate)))
        fast = self.fast_path.maxpool(self.fast_path.conv1(resample(self.resample_rate // self.speed_ratio)))
        slow = torch.cat((slow, self.slow_path.conv1_lateral(fast)), dim=1)
        for i in range(self.slow_path.num_stages):
            slow = getattr(self.slow_path, f'layer{i + 1}')(slow)
            fast = getattr(self.fast_path, f'layer{i + 1}')(fast)
            if i != self.slow_path.num_stages - 1:
                slow = torch.cat((slow, getattr(self.slow_path, f'layer{i + 1}_lateral')(fast)), dim=1)
        return slow, fast


class RGBPoseConv3D(nn.Module):
    """mmaction2's RGBPoseConv3D forward in eval mode: RGB stages 1-2 and pose stage 1, then both laterals from the
    pre-fusion features, concatenated; again after RGB stage 3 / pose stage 2; returns (rgb, pose)."""

    def __init__(self, rgb, pose, speed_ratio=4, channel_ratio=4):
        super().__init__()
        self.rgb_path = SlowFastPathway(lateral=True, speed_ratio=speed_ratio, channel_ratio=channel_ratio, **rgb)
        self.pose_path = SlowFastPathway(lateral=True, lateral_inv=True, speed_ratio=speed_ratio,
                                         channel_ratio=channel_ratio, **pose)

    def forward(self, imgs, heatmap_imgs):
        rgb = self.rgb_path.maxpool(self.rgb_path.conv1(imgs))
        pose = self.pose_path.maxpool(self.pose_path.conv1(heatmap_imgs))
        rgb = self.rgb_path.layer2(self.rgb_path.layer1(rgb))
        pose = self.pose_path.layer1(pose)
        rgb, pose = (torch.cat((rgb, self.rgb_path.layer2_lateral(pose)), dim=1),
                     torch.cat((pose, self.pose_path.layer1_lateral(rgb)), dim=1))
        rgb, pose = self.rgb_path.layer3(rgb), self.pose_path.layer2(pose)
        rgb, pose = (torch.cat((rgb, self.rgb_path.layer3_lateral(pose)), dim=1),
                     torch.cat((pose, self.pose_path.layer2_lateral(rgb)), dim=1))
        return self.rgb_path.layer4(rgb), self.pose_path.layer3(pose)


class SlowFastHead(nn.Module):
    """mmaction2's SlowFastHead in eval mode: each pathway averaged over T, H, W, the fast one's first, fc_cls."""

    def __init__(self, in_channels, num_classes):
        super().__init__()
        self.fc_cls = nn.Linear(in_channels, num_classes)

    def forward(self, x):
        slow, fast = x
        return self.fc_cls(torch.cat((fast.mean(dim=(2, 3, 4)), slow.mean(dim=(2, 3, 4))), dim=1))


class PoolConv(nn.Module):
    """TPN's DownSample / TemporalModulation: a ConvModule ``conv`` and a ceil-mode max-pool ``pool``."""

    def __init__(self, conv, pool_size, pool_first):
        super().__init__()
        self.conv, self.pool_first = conv, pool_first
        self.pool = nn.MaxPool3d(pool_size, pool_size, 0, ceil_mode=True)

    def forward(self, x):
        return self.conv(self.pool(x)) if self.pool_first else self.pool(self.conv(x))


class TPNLevelFusion(nn.Module):
    def __init__(self, in_channels, mid_channels, out_channels):
        super().__init__()
        self.downsamples = nn.ModuleList(PoolConv(ConvModule(i, m, 1, groups=32, bias=False), 1, True)
                                         for i, m in zip(in_channels, mid_channels))
        self.fusion_conv = ConvModule(sum(mid_channels), out_channels, 1, bias=False)

    def forward(self, xs):
        return self.fusion_conv(torch.cat([d(x) for d, x in zip(self.downsamples, xs)], dim=1))


class TPN(nn.Module):
    """mmaction2's TPN over two levels with its configs' settings (unit Upsample / DownSample scales, level fusion
    without pooling); returns (the fused map, the auxiliary head's logits on the lower level)."""

    def __init__(self, in_channels, out_channels, spatial_out, fusion_out, temporal_scales, num_classes,
                 flow='cascade'):
        super().__init__()
        self.flow = flow
        self.spatial_modulation = nn.Module()  # mmaction2's SpatialModulation keeps its ops as .spatial_modulation
        self.spatial_modulation.spatial_modulation = nn.ModuleList()
        for c in in_channels:
            steps = int(np.log2(spatial_out // c))
            self.spatial_modulation.spatial_modulation.append(nn.Identity() if steps < 1 else nn.ModuleList(
                ConvModule(c * 2**k, c * 2**(k + 1), (1, 3, 3), (1, 2, 2), (0, 1, 1), bias=False)
                for k in range(steps)))
        self.temporal_modulation_ops = nn.ModuleList(
            PoolConv(ConvModule(in_channels[-1], out_channels, (3, 1, 1), 1, (1, 0, 0), norm=False, act=False,
                                bias=False, groups=32), (s, 1, 1), False) for s in temporal_scales)
        self.downsample_ops = nn.ModuleList([PoolConv(ConvModule(out_channels, out_channels, (3, 1, 1), 1,
                                                                 (1, 0, 0), norm=False, act=False, bias=False),
                                                      1, False)])
        self.level_fusion_1 = TPNLevelFusion((out_channels,) * 2, (out_channels,) * 2, fusion_out)
        self.level_fusion_2 = TPNLevelFusion((out_channels,) * 2, (out_channels,) * 2, fusion_out)
        self.pyramid_fusion = ConvModule(fusion_out * 2, 2048, 1, bias=False)
        self.aux_head = nn.Module()
        self.aux_head.conv = ConvModule(in_channels[-2], in_channels[-2] * 2, (1, 3, 3), (1, 2, 2), (0, 1, 1),
                                        bias=False)
        self.aux_head.fc = nn.Linear(in_channels[-2] * 2, num_classes)

    def forward(self, xs):
        aux = self.aux_head.fc(self.aux_head.conv(xs[-2]).mean(dim=(2, 3, 4)))
        levels = []
        for ops, x in zip(self.spatial_modulation.spatial_modulation, xs):
            for op in (ops if isinstance(ops, nn.ModuleList) else [ops]):
                x = op(x)
            levels.append(x)
        tm = [op(x) for op, x in zip(self.temporal_modulation_ops, levels)]
        outs = [tm[0] + tm[1], tm[1]]  # top-down (Upsample of scale 1 is the identity)
        top_down = self.level_fusion_1(outs)
        if self.flow == 'parallel':
            outs = list(tm)
        outs = [outs[0], outs[1] + self.downsample_ops[0](outs[0])]  # bottom-up
        return self.pyramid_fusion(torch.cat([top_down, self.level_fusion_2(outs)], dim=1)), aux


class TRNHead(nn.Module):
    """mmaction2's TRNHead in eval mode (no dropout): pooled frame features -> fc_cls to hidden_dim -> its relation
    module ('TRN': one MLP over all frames; 'TRNMultiScale': one per tuple size, up to three random tuples of each
    smaller size; with num_segments <= 3 every tuple is used, so the scores are deterministic)."""

    def __init__(self, num_classes, in_channels, num_segments, relation_type, hidden_dim=256):
        super().__init__()
        self.num_segments, self.hidden_dim, self.relation_type = num_segments, hidden_dim, relation_type
        self.fc_cls = nn.Linear(in_channels, hidden_dim)
        mlp = lambda n, b: nn.Sequential(nn.ReLU(), nn.Linear(n, b), nn.ReLU(), nn.Linear(b, num_classes))  # noqa
        self.consensus = nn.Module()
        if relation_type == 'TRN':
            self.consensus.classifier = mlp(num_segments * hidden_dim, 512)
        else:
            self.scales = list(range(num_segments, 1, -1))
            self.relations = [list(itertools.combinations(range(num_segments), s)) for s in self.scales]
            self.consensus.fc_fusion_scales = nn.ModuleList(mlp(s * hidden_dim, 256) for s in self.scales)

    def forward(self, x):
        x = self.fc_cls(x.mean(dim=(2, 3))).view(-1, self.num_segments, self.hidden_dim)
        if self.relation_type == 'TRN':
            return self.consensus.classifier(x.reshape(x.shape[0], -1))
        fusion = self.consensus.fc_fusion_scales
        out = fusion[0](x.reshape(x.shape[0], -1))
        for i in range(1, len(self.scales)):
            for j in np.random.choice(len(self.relations[i]), min(3, len(self.relations[i])), replace=False):
                out = out + fusion[i](x[:, self.relations[i][j], :].reshape(x.shape[0], -1))
        return out


class ConvAudio(nn.Module):
    """mmaction2's ConvAudio: (k, 1) and (1, k) ConvModules (conv, BN, ReLU) side by side, concatenated or summed."""

    def __init__(self, cin, cout, k, op, stride=1):
        super().__init__()
        self.conv_1 = ConvModule(cin, cout, (k, 1), stride, (k // 2, 0), dims=2)
        self.conv_2 = ConvModule(cin, cout, (1, k), stride, (0, k // 2), dims=2)
        self.op = op

    def forward(self, x):
        a, b = self.conv_1(x), self.conv_2(x)
        return torch.cat((a, b), 1) if self.op == 'concat' else a + b


class Bottleneck2dAudio(nn.Module):
    """mmaction2's Bottleneck2dAudio: 1x1 ConvModule; ConvAudio ('concat') or a bare 3x3 conv (no norm, no ReLU);
    1x1 conv + BN from 2 x planes (factorised) or planes; the stride on the middle conv."""

    def __init__(self, inplanes, planes, stride, downsample, factorize):
        super().__init__()
        self.conv1 = ConvModule(inplanes, planes, 1, dims=2)
        self.conv2 = ConvModule(planes, planes, 3, stride, 1, dims=2, norm=False, act=False, bias=False)
        if factorize:
            self.conv2.conv = ConvAudio(planes, planes, 3, 'concat', stride)
        self.conv3 = ConvModule(2 * planes if factorize else planes, planes * 4, 1, dims=2, act=False)
        self.downsample, self.relu = downsample, nn.ReLU(inplace=True)

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(self.conv3(self.conv2(self.conv1(x))) + identity)


class ResNetAudio(nn.Module):
    """mmaction2's ResNetAudio: stem ConvModule around a summed ConvAudio (kernel 9, stride 1), no max-pool, stages
    of Bottleneck2dAudio with strides (1, 2, 2, 2); returns the last stage's output."""

    def __init__(self, stage_blocks, base_channels=32, factorize=(1, 1, 0, 0), in_channels=1):
        super().__init__()
        self.conv1 = ConvModule(in_channels, base_channels, 9, dims=2, bias=False)
        self.conv1.conv = ConvAudio(in_channels, base_channels, 9, 'sum')
        inplanes, self.num_stages = base_channels, len(stage_blocks)
        for i, n in enumerate(stage_blocks):
            planes, stride = base_channels * 2**i, 1 if i == 0 else 2
            down = ConvModule(inplanes, planes * 4, 1, stride, dims=2, act=False)
            blocks = [Bottleneck2dAudio(inplanes if j == 0 else planes * 4, planes, stride if j == 0 else 1,
                                        down if j == 0 else None, bool(factorize[i])) for j in range(n)]
            self.add_module(f'layer{i + 1}', nn.Sequential(*blocks))
            inplanes = planes * 4

    def forward(self, x):
        x = self.conv1(x)
        for i in range(self.num_stages):
            x = getattr(self, f'layer{i + 1}')(x)
        return x


def to_mmaction2_keys(key: str) -> str:
    """Our recognizer's state-dict key -> mmaction2's (ResNet ConvModule names; cls_head.fc_cls for the head)."""
    key = re.sub(r'^backbone\.conv1\.', 'backbone.conv1.conv.', key)
    key = re.sub(r'^backbone\.bn1\.', 'backbone.conv1.bn.', key)
    key = re.sub(r'\.conv(\d)\.(weight)$', r'.conv\1.conv.\2', key)
    key = re.sub(r'\.bn(\d)\.', r'.conv\1.bn.', key)
    key = re.sub(r'\.downsample\.0\.', '.downsample.conv.', key)
    key = re.sub(r'\.downsample\.1\.', '.downsample.bn.', key)
    return re.sub(r'^head\.', 'cls_head.', key.replace('head.fc.', 'head.fc_cls.'))


# --- mmaction2's random crop boxes (datasets/transforms/processing.py), written out with their random calls -------

def mmaction2_random_resized_crop_box(img_h, img_w, area_range=(0.08, 1.0), aspect_ratio_range=(3 / 4, 4 / 3),
                                      max_attempts=10):
    """``RandomResizedCrop.get_crop_bbox``: (x1, y1, x2, y2)."""
    area = img_h * img_w
    aspect_ratios = np.exp(np.random.uniform(np.log(aspect_ratio_range[0]), np.log(aspect_ratio_range[1]),
                                             size=max_attempts))
    target_areas = np.random.uniform(*area_range, size=max_attempts) * area
    candidate_w = np.round(np.sqrt(target_areas * aspect_ratios)).astype(np.int32)
    candidate_h = np.round(np.sqrt(target_areas / aspect_ratios)).astype(np.int32)
    for i in range(max_attempts):
        crop_w, crop_h = candidate_w[i], candidate_h[i]
        if crop_h <= img_h and crop_w <= img_w:
            x_offset = random.randint(0, img_w - crop_w)
            y_offset = random.randint(0, img_h - crop_h)
            return x_offset, y_offset, x_offset + crop_w, y_offset + crop_h
    crop_size = min(img_h, img_w)
    x_offset = (img_w - crop_size) // 2
    y_offset = (img_h - crop_size) // 2
    return x_offset, y_offset, x_offset + crop_size, y_offset + crop_size


def mmaction2_multi_scale_crop_box(img_h, img_w, input_size, scales=(1,), max_wh_scale_gap=1, random_crop=False,
                                   num_fixed_crops=5):
    """``MultiScaleCrop.transform``'s box: (x1, y1, x2, y2); ``input_size`` is (w, h)."""
    base_size = min(img_h, img_w)
    crop_sizes = [int(base_size * s) for s in scales]
    candidate_sizes = []
    for i, h in enumerate(crop_sizes):
        for j, w in enumerate(crop_sizes):
            if abs(i - j) <= max_wh_scale_gap:
                candidate_sizes.append([w, h])
    crop_size = random.choice(candidate_sizes)
    for i in range(2):
        if abs(crop_size[i] - input_size[i]) < 3:
            crop_size[i] = input_size[i]
    crop_w, crop_h = crop_size
    if random_crop:
        x_offset = random.randint(0, img_w - crop_w)
        y_offset = random.randint(0, img_h - crop_h)
    else:
        w_step, h_step = (img_w - crop_w) // 4, (img_h - crop_h) // 4
        candidate_offsets = [(0, 0), (4 * w_step, 0), (0, 4 * h_step), (4 * w_step, 4 * h_step),
                             (2 * w_step, 2 * h_step)]
        if num_fixed_crops == 13:
            candidate_offsets += [(0, 2 * h_step), (4 * w_step, 2 * h_step), (2 * w_step, 4 * h_step),
                                  (2 * w_step, 0 * h_step), (1 * w_step, 1 * h_step), (3 * w_step, 1 * h_step),
                                  (1 * w_step, 3 * h_step), (3 * w_step, 3 * h_step)]
        x_offset, y_offset = random.choice(candidate_offsets)
    return x_offset, y_offset, x_offset + crop_w, y_offset + crop_h
