"""Segmentation overlays: image | ground truth | prediction as one PNG per sample, and the test-time hook.

``tools/test.py CONFIG CKPT --show-dir DIR`` adds ``SegOverlayHook`` when the config sets
``show_hook = 'SegOverlayHook'`` (the segmentation configs do).
"""
from __future__ import annotations

import os
from typing import Sequence

import numpy as np
import torch
from mmengine.dist import all_reduce, is_main_process
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from ..engine.atomic import save_figure
from ..registry import HOOKS
from .out_dir import refuse_input_folder
from .sample_order import SampleOrder


def display_image(image: torch.Tensor | np.ndarray) -> np.ndarray:
    """CxHxW (or HxW) intensities -> HxW or HxWx3 floats in [0, 1], stretched between the 1st and 99th percentile."""
    array = image.detach().cpu().float().numpy() if isinstance(image, torch.Tensor) else np.asarray(image, float)
    if array.ndim == 3:
        array = array.transpose(1, 2, 0) if array.shape[0] == 3 else array[0]
    low, high = np.percentile(array, (1, 99))
    return np.clip((array - low) / max(high - low, 1e-12), 0, 1)


def busiest_slice(labels: np.ndarray, ignore_index: int = 255) -> int:
    """Index along the first axis of a (D, H, W) label volume with the most foreground (label > 0, not ignored)."""
    return int(((labels > 0) & (labels != ignore_index)).reshape(labels.shape[0], -1).sum(1).argmax())


def overlay_stem(sample: dict) -> tuple[str | None, str | None]:
    """(file stem, what tells equal stems apart) of a sample's overlay: the image stem, plus the slice index for
    volumes (None without an image path: named by its index); the case number of 2D NIfTI slices, else None (the
    sample's index)."""
    if 'img_path' not in sample:
        return None, None
    stem = os.path.basename(str(sample['img_path']))
    stem = stem[:-7] if stem.endswith('.nii.gz') else os.path.splitext(stem)[0]
    slice_idx = sample.get('slice_idx')
    stem = f'{stem}_slice{int(slice_idx):03d}' if slice_idx is not None else stem
    case = sample.get('case_idx')
    return stem, f'case{int(case)}' if case is not None else None


def label_colours(num: int) -> np.ndarray:
    """(num, 4) RGBA colours, all different: tab10's up to 10 classes, tab20's up to 20, then hues around the
    circle (tab10 repeated itself: class 11 had class 1's colour)."""
    import matplotlib.pyplot as plt

    if num <= 20:
        return plt.get_cmap('tab10' if num <= 10 else 'tab20')(np.arange(num))
    return plt.get_cmap('hsv')(np.linspace(0, 1, num, endpoint=False))


def save_overlay(path: str, image: np.ndarray, pred: np.ndarray, gt: np.ndarray | None = None,
                 classes: Sequence[str] | None = None, alpha: float = 0.45, ignore_index: int = 255) -> str:
    """Write image, ground truth over image and prediction over image side by side; atomic; returns ``path``.

    Args:
        image: HxW or HxWx3 floats in [0, 1]. pred, gt: HxW label maps (class 0 and ``ignore_index`` are left
            transparent). classes: names for the legend. alpha: opacity of the label colours.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    num = int(max(pred.max(), 0 if gt is None else gt[gt != ignore_index].max(initial=0))) + 1
    num = max(num, len(classes) if classes else 2)
    colours = label_colours(num)
    cmap = ListedColormap(colours)
    panels = [('image', None), ('ground truth', gt), ('prediction', pred)] if gt is not None else \
        [('image', None), ('prediction', pred)]
    aspect = min(max(image.shape[1] / image.shape[0], 0.25), 4.0)  # panel width / height follows the image
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * aspect * len(panels) + 0.4, 4.6), squeeze=False)
    for ax, (title, labels) in zip(axes[0], panels):
        ax.imshow(image, cmap='gray' if image.ndim == 2 else None, vmin=0, vmax=1)
        if labels is not None:
            shown = np.ma.masked_where((labels <= 0) | (labels >= num) | (labels == ignore_index), labels)
            ax.imshow(shown, cmap=cmap, vmin=0, vmax=num - 1, alpha=alpha, interpolation='nearest')
        ax.set_title(title)
        ax.axis('off')
    if classes:
        handles = [Patch(color=colours[i], label=name) for i, name in enumerate(classes) if i > 0]
        fig.legend(handles=handles, loc='lower center', ncol=len(handles))
    fig.tight_layout()
    return save_figure(fig, path)


@HOOKS.register_module()
class SegOverlayHook(Hook):
    """Save overlays of the first ``max_images`` test samples to ``out_dir`` (UNet 'predict' outputs); of a 3D
    sample, its depth slice with the most labelled voxels (ground truth, else prediction), named ``_sliceNNN``.

    Args:
        out_dir: folder for the PNGs (created). max_images: how many samples. every: keep every n-th sample
            (e.g. a few slices spread through a volume). alpha: label opacity.
    """

    def __init__(self, out_dir: str, max_images: int = 16, every: int = 1, alpha: float = 0.45):
        if max_images < 1 or every < 1:
            raise ValueError(f'SegOverlayHook: max_images and every must be >= 1; got {max_images}, {every}')
        self.out_dir, self.max_images, self.every, self.alpha = out_dir, max_images, every, alpha
        self.saved = 0
        self.order = SampleOrder()

    def before_run(self, runner) -> None:
        refuse_input_folder(runner, self.out_dir, 'SegOverlayHook')

    def before_test_epoch(self, runner) -> None:
        self.saved = 0
        self.order.reset(runner)

    def after_test_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if data_batch is None or outputs is None:
            return
        classes = (getattr(runner.test_dataloader.dataset, 'metainfo', None) or {}).get('classes')
        # the model's: NIfTI labels use -1, which was painted in class 0's colour
        model = getattr(runner, 'model', None)
        model = model.module if is_model_wrapper(model) else model
        ignore_index = getattr(model, 'ignore_index', 255)
        drawn = []
        for image, out in zip(data_batch['inputs'], outputs):
            pred = torch.as_tensor(out['pred_sem_seg']).cpu().numpy()
            gt = out.get('gt_sem_seg')
            gt = None if gt is None else torch.as_tensor(gt).cpu().numpy().reshape(pred.shape)
            if pred.ndim == 3:  # a volume (D, H, W): its depth slice with the most labelled voxels
                depth = busiest_slice(pred if gt is None else gt, ignore_index)
                image, pred, gt = image[:, depth], pred[depth], None if gt is None else gt[depth]
                out = dict(out, slice_idx=depth)
            drawn.append((image, pred, gt, overlay_stem(out)))
        places = self.order.batch([stem for *_, (stem, _) in drawn], [tag for *_, (_, tag) in drawn])
        for (image, pred, gt, _), place in zip(drawn, places):
            # every n-th sample of the test set, the first max_images of them
            if place is None or place[0] % self.every or place[0] // self.every >= self.max_images:
                continue
            save_overlay(os.path.join(self.out_dir, f'{place[1]}.png'), display_image(image), pred, gt, classes,
                         self.alpha, ignore_index)
            self.saved += 1

    def after_test_epoch(self, runner, metrics=None) -> None:
        saved = torch.tensor(self.saved)
        all_reduce(saved, 'sum')  # every rank's overlays (in place; nothing to do in one process)
        if is_main_process() and saved:
            runner.logger.info(f'{int(saved)} segmentation overlays saved to {self.out_dir}')
