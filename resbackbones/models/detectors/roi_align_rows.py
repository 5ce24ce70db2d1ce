"""RoIAlign as weighted sums of feature rows, for fast CPU training.

torchvision's CPU ``roi_align`` backward walks every RoI, channel and sample in a scalar loop: replacing it saves
about a quarter of a CPU Mask R-CNN training step (docs/deploy.md, tools/benchmark_cpu_training.py). Here every
output cell is the weighted sum of the ``grid_h * grid_w * 4`` bilinear neighbours of its samples, each neighbour a
channels-last row of the feature map, so the forward is one ``embedding_bag`` (a vectorised gather + weighted sum),
and so is its backward, over the output gradients grouped by the row they feed (``_WeightedRowBags``). Same
arithmetic as torchvision's kernel (sample positions, the out-of-map rule, the clamping at the border, the adaptive
grid), so outputs and gradients agree to float rounding
(tests/models/detectors/test_roi_align_rows.py).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.autograd.function import once_differentiable
from torch.nn.modules.utils import _pair


def roi_align_rows(features: Tensor, rois: Tensor, output_size: int | tuple[int, int], spatial_scale: float = 1.0,
                   sampling_ratio: int = -1, aligned: bool = False) -> Tensor:
    """torchvision.ops.roi_align's result, computed as gathers of channels-last rows.

    Args:
        features: (N, C, H, W) feature map; channels_last memory avoids one copy.
        rois: (R, 5) boxes ``[batch index, x1, y1, x2, y2]`` in image coordinates.
        output_size: pooled (height, width) or one int for both.
        spatial_scale: feature-map pixels per image pixel (1 / stride).
        sampling_ratio: samples per bin side; <= 0 adapts it to each RoI (``ceil(roi size / output size)``).
        aligned: shift boxes by half a pixel (detectron2 / mmdet), else torchvision's original convention.

    Returns (R, C, out_h, out_w) in float32 when the features are of lower precision, as torchvision's autocast
    rule for roi_align does.
    """
    if features.dim() != 4 or rois.dim() != 2 or rois.shape[1] != 5:
        raise ValueError(f'roi_align_rows: expected features (N, C, H, W) and rois (R, 5); '
                         f'got {tuple(features.shape)} and {tuple(rois.shape)}')
    out_h, out_w = _pair(output_size)
    if features.dtype in (torch.bfloat16, torch.float16):
        features = features.float()
    num_images, channels, height, width = features.shape
    rows = features.permute(0, 2, 3, 1).reshape(num_images * height * width, channels)
    rois = rois.to(features.dtype)
    out = features.new_zeros((len(rois), out_h, out_w, channels))
    if len(rois) == 0:
        return out.permute(0, 3, 1, 2)
    offset = 0.5 if aligned else 0.0
    start_x, start_y = rois[:, 1] * spatial_scale - offset, rois[:, 2] * spatial_scale - offset
    roi_w, roi_h = rois[:, 3] * spatial_scale - offset - start_x, rois[:, 4] * spatial_scale - offset - start_y
    if not aligned:  # torchvision's original convention: a RoI is at least one pixel
        roi_w, roi_h = roi_w.clamp(min=1.0), roi_h.clamp(min=1.0)
    bin_w, bin_h = roi_w / out_w, roi_h / out_h
    if sampling_ratio > 0:
        grids = torch.full((len(rois), 2), sampling_ratio, dtype=torch.int64, device=rois.device)
    else:
        grids = torch.stack([torch.ceil(roi_h / out_h), torch.ceil(roi_w / out_w)], 1).long()
    for grid_h, grid_w in torch.unique(grids, dim=0).tolist():
        if grid_h <= 0 or grid_w <= 0:  # an empty or inverted aligned RoI has no samples: torchvision gives zeros
            continue
        index = torch.where((grids[:, 0] == grid_h) & (grids[:, 1] == grid_w))[0]
        ys = _sample_positions(start_y[index], bin_h[index], out_h, grid_h)  # (r, out_h * grid_h)
        xs = _sample_positions(start_x[index], bin_w[index], out_w, grid_w)
        y_rows, y_weights, y_inside = _neighbours(ys, height)  # (r, out_h * grid_h, 2)
        x_cols, x_weights, x_inside = _neighbours(xs, width)
        r = len(index)
        # (r, out_h, grid_h, 2) x (r, out_w, grid_w, 2) -> one bag of grid_h * 2 * grid_w * 2 rows per output cell
        y_rows, x_cols = y_rows.view(r, out_h, 1, grid_h, 2, 1, 1), x_cols.view(r, 1, out_w, 1, 1, grid_w, 2)
        y_weights = (y_weights * y_inside[..., None]).view(r, out_h, 1, grid_h, 2, 1, 1)
        x_weights = (x_weights * x_inside[..., None]).view(r, 1, out_w, 1, 1, grid_w, 2)
        image = rois[index, 0].long().view(r, 1, 1, 1, 1, 1, 1)
        bags = (image * height + y_rows) * width + x_cols
        weights = y_weights * x_weights / (grid_h * grid_w)
        bag_size = grid_h * 2 * grid_w * 2
        pooled = _WeightedRowBags.apply(bags.reshape(-1, bag_size), rows, weights.reshape(-1, bag_size))
        out[index] = pooled.view(r, out_h, out_w, channels)
    return out.permute(0, 3, 1, 2)


class _WeightedRowBags(torch.autograd.Function):
    """``embedding_bag(bags, rows, per_sample_weights=weights, mode='sum')``: (B, K) row indices and weights ->
    (B, C), with a faster backward. torch's CPU backward of a weighted embedding_bag accumulates sample by sample;
    the rows' gradient is itself a weighted bag sum, over the output gradients grouped by the row they feed, so
    sorting the (bag, row) pairs by row makes it one embedding_bag again (RoIAlign's forward + backward 2.6-2.8x
    faster at the nuclei Mask R-CNN's shapes, docs/deploy.md). The weights get no gradient: they come from the
    boxes, which torchvision's roi_align does not differentiate either."""

    @staticmethod
    def forward(ctx, bags: Tensor, rows: Tensor, weights: Tensor) -> Tensor:
        ctx.save_for_backward(bags, weights)
        ctx.num_rows = rows.shape[0]
        return F.embedding_bag(bags, rows, per_sample_weights=weights, mode='sum')

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out: Tensor) -> tuple[None, Tensor, None]:
        bags, weights = ctx.saved_tensors
        flat = bags.reshape(-1)
        order = torch.argsort(flat.int() if ctx.num_rows < 2 ** 31 else flat, stable=True)  # int32 sorts faster
        offsets = flat.new_zeros(ctx.num_rows + 1)
        offsets[1:] = torch.bincount(flat, minlength=ctx.num_rows).cumsum(0)
        grad_rows = F.embedding_bag(order // bags.shape[1], grad_out.contiguous(), offsets, mode='sum',
                                    per_sample_weights=weights.reshape(-1)[order], include_last_offset=True)
        return None, grad_rows, None


def _sample_positions(start: Tensor, bin_size: Tensor, bins: int, grid: int) -> Tensor:
    """(R, bins * grid) sample coordinates along one axis: bin p, sample i at start + p*bin + (i+0.5)*bin/grid."""
    p = torch.arange(bins, dtype=start.dtype, device=start.device).repeat_interleave(grid)
    i = torch.arange(grid, dtype=start.dtype, device=start.device).repeat(bins)
    return start[:, None] + p * bin_size[:, None] + (i + 0.5) * bin_size[:, None] / grid


def _neighbours(coords: Tensor, size: int) -> tuple[Tensor, Tensor, Tensor]:
    """Low/high neighbour indices (..., 2), their bilinear weights (..., 2) and whether the sample counts (...).

    torchvision's rule: a sample beyond one pixel outside the map contributes nothing; others are clamped to
    [0, size - 1], the high neighbour collapsing onto the low one at the last row/column.
    """
    inside = ((coords >= -1.0) & (coords <= size)).to(coords.dtype)
    coords = coords.clamp(min=0.0)
    low = coords.long()  # floor: coords are >= 0 here
    at_edge = low >= size - 1
    low = low.clamp(max=size - 1)
    coords = torch.where(at_edge, low.to(coords.dtype), coords)
    high = torch.where(at_edge, low, low + 1)
    frac = coords - low
    return torch.stack([low, high], -1), torch.stack([1.0 - frac, frac], -1), inside

