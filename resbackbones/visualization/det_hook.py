"""DetVisualizationHook: during testing, write one PNG per image with its predicted boxes, classes, scores, masks."""
from __future__ import annotations

import os

import numpy as np
import torch
from mmengine.dist import all_reduce, is_main_process
from mmengine.hooks import Hook

from ..models.detectors.two_stage import input_scale
from ..registry import HOOKS
from .draw import binary_mask, draw_instances, save_png
from .out_dir import refuse_input_folder
from .sample_order import SampleOrder


@HOOKS.register_module()
class DetVisualizationHook(Hook):
    """Save ``out_dir/<image name>.png`` for the test images (``tools/test.py CONFIG CKPT --show-dir DIR``).

    The picture is the packed input image (after the test pipeline's resize, without its padding) with the
    predictions rescaled to it, by the same rule the model maps them back with.

    Args:
        out_dir: folder for the PNGs (created). score_thr: draw predictions at least this confident.
        max_images: draw the first this many images of the test set (None: all).
    Under ``tools/dist_test.sh`` every rank draws its own share (:mod:`.sample_order`).
    """

    def __init__(self, out_dir: str, score_thr: float = 0.3, max_images: int | None = None):
        self.out_dir, self.score_thr, self.max_images = out_dir, score_thr, max_images
        self.count = 0
        self.order = SampleOrder()

    def before_run(self, runner) -> None:
        refuse_input_folder(runner, self.out_dir, 'DetVisualizationHook')

    def before_test_epoch(self, runner) -> None:
        self.count = 0
        self.order.reset(runner)

    def after_test_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if data_batch is None or outputs is None:
            return
        classes = (getattr(runner.test_dataloader.dataset, 'metainfo', None) or {}).get('classes')
        stems = [os.path.splitext(os.path.basename(str(s.metainfo['img_path'])))[0] if s.metainfo.get('img_path')
                 else None for s in outputs]
        places = self.order.batch(stems, [s.metainfo.get('img_id') for s in outputs])
        for image, sample, place in zip(data_batch['inputs'], outputs, places):
            if place is None or (self.max_images is not None and place[0] >= self.max_images):
                continue
            self.count += 1
            picture = self.draw(image.cpu().numpy().transpose(1, 2, 0), sample, classes)
            save_png(picture, os.path.join(self.out_dir, f'{place[1]}.png'))

    def after_test_epoch(self, runner, metrics=None) -> None:
        count = torch.tensor(self.count)
        all_reduce(count, 'sum')  # every rank's pictures (in place; nothing to do in one process)
        if is_main_process() and count:
            runner.logger.info(f'DetVisualizationHook: {int(count)} pictures written to {self.out_dir}')

    def draw(self, image: np.ndarray, sample, classes) -> np.ndarray:
        """The predictions of ``sample`` (in original-image pixels) drawn on the resized input ``image``."""
        pred = sample.pred_instances
        h, w, fx, fy = resized_extent(sample.metainfo, image.shape[:2])
        keep = (pred.scores >= self.score_thr).cpu().numpy()
        boxes = pred.bboxes.cpu().numpy()[keep] * np.array([fx, fy, fx, fy], np.float32)
        masks = None
        if 'masks' in pred:
            import cv2
            masks = [cv2.resize(binary_mask(m).astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
                     for m in pred.masks.cpu().numpy()[keep]]
        return draw_instances(image[:h, :w], boxes, pred.labels.cpu().numpy()[keep],
                              pred.scores.cpu().numpy()[keep], masks, classes)


def resized_extent(meta: dict, image_hw: tuple[int, int]) -> tuple[int, int, float, float]:
    """(h, w, x factor, y factor): the resized image's extent inside the network input (without the padding
    mmcv's Pad adds to ``img_shape``) and the scale from original pixels to it, by the model's own rule."""
    h, w = (int(v) for v in meta.get('img_shape', image_hw)[:2])
    oh, ow = (int(v) for v in meta.get('ori_shape', (h, w))[:2])
    fx, fy = input_scale(meta, (h, w), (oh, ow))
    return (min(h, round(oh * fy)), min(w, round(ow * fx)), fx, fy) if 'pad_shape' in meta else (h, w, fx, fy)
