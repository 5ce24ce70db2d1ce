"""A small PNG grid of test images titled with predicted and true class: a glance at what the model gets wrong."""
from __future__ import annotations

import os
from typing import Sequence

import numpy as np
import torch
from mmengine.dist import collect_results, is_main_process
from mmengine.hooks import Hook
from mmengine.runner import Runner

from ..engine.atomic import save_figure
from ..registry import HOOKS
from .out_dir import refuse_input_folder


@HOOKS.register_module()
class PredictionGridHook(Hook):
    """Collect the first ``max_images`` test samples with their predictions and save ``out_dir/predictions.png``.

    Titles read 'pred (gt true)', green when right and red when wrong. Works with ImageClassifier 'predict'
    outputs (dicts with 'pred_label' and 'gt_label') and inputs packed by PackInputs (CxHxW tensors).

    Args:
        out_dir: folder for the PNG (created). max_images: how many samples to draw. columns: grid width.
    """

    def __init__(self, out_dir: str, max_images: int = 16, columns: int = 4):
        if max_images < 1 or columns < 1:
            raise ValueError(f'PredictionGridHook: max_images and columns must be >= 1; got {max_images}, {columns}')
        self.out_dir, self.max_images, self.columns = out_dir, max_images, columns
        self.samples: list[tuple[np.ndarray, int, int | None]] = []

    def before_run(self, runner: Runner) -> None:
        # predictions.png in a class folder of the test set became one more test image of that class
        refuse_input_folder(runner, self.out_dir, 'PredictionGridHook')

    def before_test_epoch(self, runner: Runner) -> None:
        self.samples = []

    def after_test_iter(self, runner: Runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if data_batch is None or outputs is None:
            return
        for image, pred in zip(data_batch['inputs'], outputs):
            if len(self.samples) >= self.max_images:
                return
            self.samples.append((_to_hwc(image), int(pred['pred_label']), true_labels(pred.get('gt_label'))))

    def after_test_epoch(self, runner: Runner, metrics=None) -> None:
        # every rank's first samples, in the test set's order (dist_test.sh drew rank 0's share: every other image)
        dataset = runner.test_dataloader.dataset
        size = min(self.max_images, len(dataset)) if hasattr(dataset, '__len__') else len(self.samples)
        samples = collect_results(self.samples, size, device='cpu')
        if is_main_process() and samples:
            classes = (getattr(dataset, 'metainfo', None) or {}).get('classes')
            path = save_grid(samples, os.path.join(self.out_dir, 'predictions.png'), classes, self.columns)
            runner.logger.info(f'prediction grid of {len(samples)} test images saved to {path}')


def true_labels(gt) -> tuple[int, ...] | None:
    """A sample's true classes: one index (an int or a one-element tensor), or the positive classes of a
    multi-hot vector (a multi_class recognizer's ``gt_label``, which the titles compared as a tensor, stopping the
    test after it had run and losing its metrics)."""
    if gt is None:
        return None
    values = np.asarray(gt.detach().cpu() if isinstance(gt, torch.Tensor) else gt).reshape(-1)
    if values.size == 1:
        return (int(values[0]),)
    return tuple(int(k) for k in np.flatnonzero(values >= 0.5))


def _to_hwc(image: torch.Tensor | np.ndarray) -> np.ndarray:
    """One sample's input as a picture: an image (C, H, W); of a video sample, the middle frame of its first view
    ((views * T, C, H, W) frames of a 2D recognizer, (views, C, T, H, W) clips); channels other than 1 or 3
    (pose heatmaps, flow) averaged to grey. Video samples stopped the test after it had run, losing its metrics."""
    array = image.detach().cpu().numpy() if isinstance(image, torch.Tensor) else np.asarray(image)
    if array.ndim == 5:
        array = array[0, :, array.shape[2] // 2]
    elif array.ndim == 4:
        array = array[array.shape[0] // 2]
    array = array.transpose(1, 2, 0) if array.ndim == 3 else array
    if array.ndim == 3 and array.shape[2] not in (1, 3):
        array = array.mean(axis=2)
    if array.dtype != np.uint8:  # float inputs: stretch to the visible range
        low, high = float(array.min()), float(array.max())
        array = ((array - low) / (high - low + 1e-12) * 255).astype(np.uint8)
    return array[..., 0] if array.ndim == 3 and array.shape[2] == 1 else array


def save_grid(samples: Sequence[tuple[np.ndarray, int, tuple[int, ...] | None]], path: str,
              classes: Sequence[str] | None = None, columns: int = 4) -> str:
    """Draw ``(image, pred, true classes)`` samples in a grid and write the PNG atomically; returns ``path``. A
    prediction counts as right (green) when it is one of the true classes."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    def one(label: int) -> str:
        return classes[label] if classes and 0 <= label < len(classes) else str(label)

    def name(labels: tuple[int, ...] | None) -> str:
        return '?' if labels is None else '+'.join(map(one, labels)) or 'none'

    rows = -(-len(samples) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(2 * columns, 2.2 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis('off')
    for ax, (image, pred, gt) in zip(axes.flat, samples):
        ax.imshow(image, cmap='gray' if image.ndim == 2 else None)
        ax.set_title(f'{one(pred)} (gt {name(gt)})', fontsize=9, color='green' if gt and pred in gt else 'red')
    fig.tight_layout()
    return save_figure(fig, path)
