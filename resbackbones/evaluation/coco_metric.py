"""COCO detection / instance segmentation metric through pycocotools' COCOeval, with mmdet's names and options."""
from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import tempfile
from typing import Any, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmengine.structures import BaseDataElement
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from ..datasets.coco_checks import load_coco_json
from ..engine.atomic import atomic_path, ensure_writable_dir
from ..registry import METRICS

METRICS_ALLOWED = ('bbox', 'segm')
STAT_NAMES = ('mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m', 'mAP_l')  # COCOeval.stats[0:6]


def check_image_sizes(results: list[dict], gt_data: dict, ann_file: str) -> None:
    """ValueError when an image's size as loaded differs from its json width and height: predictions come in the
    loaded image's pixels and would be scored against boxes in the json's, silently near 0 AP."""
    sizes = {img['id']: (img.get('height'), img.get('width')) for img in gt_data.get('images', [])}
    for res in results:
        shape, listed = res.get('ori_shape'), sizes.get(res['img_id'])
        if shape is not None and listed is not None and None not in listed and tuple(shape[:2]) != tuple(listed):
            raise ValueError(f"CocoMetric: {res.get('img_path') or 'image id ' + str(res['img_id'])} loads as "
                             f'{shape[0]}x{shape[1]} (HxW) but {ann_file} gives {listed[0]}x{listed[1]}: resized '
                             f'after annotation, or rotated by an EXIF tag? Predictions would be scored in the '
                             f'wrong pixels')


def check_image_ids(results: list[dict], gt_data: dict, ann_file: str, dataset_file: str | None) -> None:
    """ValueError when predictions are for image ids the annotation file lacks: an evaluator ann_file other than
    the dataset's (pycocotools stopped on a bare assertion, or scored against another image's ground truth)."""
    known = {image['id'] for image in gt_data.get('images', [])}
    unknown = sorted({res['img_id'] for res in results} - known, key=str)
    if unknown:
        raise ValueError(f'CocoMetric: predictions for image ids {unknown[:5]} ({len(unknown)} in all) that {ann_file} '
                         f'does not hold; the test images come from {dataset_file or "another file"}: give the '
                         f"evaluator the dataset's ann_file")


def gt_for_cocoeval(gt_data: dict, metrics: Sequence[str], ann_file: str) -> dict:
    """The ground truth as COCOeval reads it, given what CocoDataset accepts: image sizes as ints, a flat polygon
    nested and parts under 3 points dropped, ``iscrowd`` 0 and ``area`` (the mask's, else the box's) where missing;
    ValueError for 'segm' when an annotation has no mask (box-only ground truth). COCOeval raised KeyError,
    TypeError or IndexError on each."""
    for image in gt_data.get('images', []):
        for key in ('height', 'width'):
            if isinstance(image.get(key), str) and image[key].strip().isdigit():
                image[key] = int(image[key])
    sizes = {image['id']: (image.get('height'), image.get('width')) for image in gt_data.get('images', [])}
    kept, degenerate = [], 0
    for ann in gt_data.get('annotations', []):
        seg = ann.get('segmentation')
        if isinstance(seg, list) and seg and all(isinstance(v, (int, float)) for v in seg):
            seg = [seg]
        if isinstance(seg, list):  # parts under 3 points are dropped, as the dataset drops them
            drawn = bool(seg)
            ann['segmentation'] = seg = [p for p in seg if isinstance(p, list) and len(p) >= 6 and len(p) % 2 == 0]
            if 'segm' in metrics and drawn and not seg:  # a mask model ignores such an annotation; so does segm
                degenerate += 1
                continue
        kept.append(ann)
        if 'segm' in metrics and not seg:
            raise ValueError(f"CocoMetric: metric 'segm' needs a mask on every annotation; {ann_file} annotation id "
                             f"{ann.get('id')} has none (box-only ground truth: use metric='bbox')")
        ann.setdefault('iscrowd', 0)
        if 'area' not in ann:
            height, width = sizes.get(ann.get('image_id'), (None, None))
            if seg and height and width:
                # polygons, and uncompressed RLE (COCO's crowd regions: counts as a list) compressed first
                uncompressed = isinstance(seg, dict) and isinstance(seg.get('counts'), list)
                rles = mask_utils.frPyObjects(seg, height, width) if isinstance(seg, list) or uncompressed else seg
                ann['area'] = float(mask_utils.area(mask_utils.merge(rles) if isinstance(rles, list) else rles))
            else:
                ann['area'] = float(ann['bbox'][2] * ann['bbox'][3])
    if degenerate:
        print_log(f'CocoMetric: {degenerate} annotations of {ann_file} whose polygons all have fewer than 3 points '
                  f'left out of the segm ground truth (a mask model trains with them ignored)', logger='current')
        gt_data['annotations'] = kept
    return gt_data


def coco_index(gt_data: dict) -> COCO:
    """pycocotools' COCO over ``gt_data`` (quietly: it prints as it indexes)."""
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = gt_data
        gt.createIndex()
    return gt


def placeholder_result(gt: COCO, metric: str, img_id, cat_id: int) -> dict:
    """A detection that overlaps no ground truth (a box left of and above the image, an empty mask): with it
    COCOeval gives what no detections give, 0 where there is ground truth and -1 where an area range has none
    (every AP read 0 before, and classwise nothing)."""
    entry = dict(image_id=img_id, category_id=cat_id, score=1e-6)
    if metric == 'bbox':
        return dict(entry, bbox=[-10.0, -10.0, 1.0, 1.0])
    image = gt.imgs[img_id]
    return dict(entry, segmentation=encode_masks(np.zeros((1, int(image['height']), int(image['width'])), bool))[0])


def encode_masks(masks: np.ndarray) -> list[dict]:
    """(K, H, W) bool/0-1 masks -> COCO compressed RLEs with str counts (json-ready)."""
    rles = mask_utils.encode(np.asfortranarray(masks.transpose(1, 2, 0).astype(np.uint8))) if len(masks) else []
    for rle in rles:
        rle['counts'] = rle['counts'].decode('ascii')
    return list(rles)


def prediction_masks(masks, sample: dict) -> list[dict]:
    """A prediction's masks as COCO RLEs: RLE dicts as they are (mmdet's form), tensors (K, H, W) encoded, cut at
    0.5 when they hold probabilities (test_cfg.rcnn.mask_thr_binary=None; '> 0' kept the whole pasted box).
    ValueError when a tensor is not of the image's ``ori_shape``: pycocotools scored it IoU -1, AP 0, silently."""
    if isinstance(masks, (list, tuple)) and all(isinstance(m, dict) and 'counts' in m for m in masks):
        # pycocotools' and mmdet's encoders give bytes counts, which json cannot write (a bare TypeError)
        return [dict(m, counts=m['counts'].decode('ascii')) if isinstance(m['counts'], bytes) else m for m in masks]
    masks = torch.as_tensor(masks).detach().cpu()  # numpy masks too
    shape = sample.get('ori_shape')
    if shape is not None and len(masks) and tuple(masks.shape[-2:]) != tuple(shape[:2]):
        raise ValueError(f"CocoMetric: {sample.get('img_path') or 'image id ' + str(sample.get('img_id'))}: masks "
                         f'are {tuple(masks.shape[-2:])} but the image is {tuple(shape[:2])} (HxW); predictions '
                         f'must be in the original pixels')
    return encode_masks((masks > 0.5 if masks.is_floating_point() else masks > 0).numpy())


@METRICS.register_module()
class CocoMetric(BaseMetric):
    """COCO AP of ``pred_instances`` (boxes, and masks for 'segm') against a COCO annotation file.

    Reports ``coco/{bbox,segm}_mAP``, ``_mAP_50``, ``_mAP_75``, ``_mAP_s``, ``_mAP_m``, ``_mAP_l`` (0..1) over the
    images that were processed, on the dataset's classes (``dataset_meta['cat_ids']``, set by CocoDataset).

    Args:
        ann_file: the ground-truth json; None takes ``dataset_meta['ann_file']``.
        metric: 'bbox', 'segm' or both.
        classwise: also print a per-class AP table and report ``{metric}_{class}_precision``.
        format_only: only write the results json(s) (e.g. for a test-dev submission) and report nothing.
        outfile_prefix: where results go: ``{prefix}.bbox.json`` / ``{prefix}.segm.json``; required with
            format_only, else a temporary folder is used.
    """

    default_prefix = 'coco'

    def __init__(self, ann_file: str | None = None, metric: str | Sequence[str] = 'bbox', classwise: bool = False,
                 format_only: bool = False, outfile_prefix: str | None = None, collect_device: str = 'cpu',
                 prefix: str | None = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        # once each: ['bbox', 'bbox'] wrote every detection twice and lowered the AP without a word
        self.metrics = list(dict.fromkeys([metric] if isinstance(metric, str) else metric))
        bad = [m for m in self.metrics if m not in METRICS_ALLOWED]
        if bad or not self.metrics:
            raise ValueError(f'CocoMetric: metric must be among {METRICS_ALLOWED}; got {metric!r}')
        if format_only and not outfile_prefix:
            raise ValueError('CocoMetric: format_only=True needs outfile_prefix (where the results json goes)')
        if outfile_prefix:  # checked now: a prefix under a file failed after the whole test
            if outfile_prefix.endswith(('/', os.sep)):
                raise ValueError(f'CocoMetric: outfile_prefix {outfile_prefix!r} ends in a separator (hidden files '
                                 f"'.bbox.json' would be written); give a name prefix, e.g. "
                                 f"{os.path.join(outfile_prefix, 'results')!r}")
            ensure_writable_dir(os.path.dirname(os.path.abspath(outfile_prefix)), 'CocoMetric outfile_prefix folder')
        self.ann_file, self.classwise = ann_file, classwise
        self.format_only, self.outfile_prefix = format_only, outfile_prefix

    def process(self, data_batch: Any, data_samples: Sequence) -> None:
        """Keep each image's predictions as numpy arrays (masks as RLE, so memory stays small)."""
        for sample in data_samples:
            if isinstance(sample, BaseDataElement):  # mmengine's Evaluator hands over to_dict() copies
                sample = sample.to_dict()
            pred = sample['pred_instances']
            result = dict(img_id=sample['img_id'], bboxes=pred['bboxes'].detach().cpu().numpy(),
                          scores=pred['scores'].detach().cpu().numpy(), labels=pred['labels'].detach().cpu().numpy(),
                          ori_shape=sample.get('ori_shape'), img_path=sample.get('img_path'))
            if 'segm' in self.metrics:
                if 'masks' not in pred:
                    raise ValueError("CocoMetric: metric 'segm' needs pred_instances.masks (a MaskRCNN model)")
                result['masks'] = prediction_masks(pred['masks'], sample)
            self.results.append(result)

    def _cat_ids(self, gt: dict) -> list[int]:
        if self.dataset_meta and self.dataset_meta.get('cat_ids'):
            return list(self.dataset_meta['cat_ids'])
        return sorted(c['id'] for c in gt['categories'] if c['name'] != '_background_')

    def results_to_json(self, results: list[dict], cat_ids: list[int],
                        ann_file: str | None = None) -> dict[str, list[dict]]:
        """COCO results lists per metric: [x, y, w, h] boxes, category ids, scores (and RLE segmentations)."""
        out: dict[str, list[dict]] = {m: [] for m in self.metrics}
        for res in results:
            for i, (box, score, label) in enumerate(zip(res['bboxes'], res['scores'], res['labels'])):
                if not 0 <= int(label) < len(cat_ids):
                    raise ValueError(f'CocoMetric: predicted label {int(label)} for image id {res["img_id"]} is '
                                     f'outside the {len(cat_ids)} classes of {ann_file or self.ann_file}')
                x1, y1, x2, y2 = (float(v) for v in box)
                entry = dict(image_id=res['img_id'], category_id=cat_ids[int(label)], score=float(score))
                for metric in self.metrics:
                    # segm entries carry no box, so pycocotools takes their area (small/medium/large) from the mask
                    out[metric].append(dict(entry, segmentation=res['masks'][i]) if metric == 'segm' else
                                       dict(entry, bbox=[x1, y1, x2 - x1, y2 - y1]))
        return out

    def compute_metrics(self, results: list) -> dict[str, float]:
        ann_file = self.ann_file or (self.dataset_meta or {}).get('ann_file')
        if not ann_file:
            raise ValueError('CocoMetric: no ann_file given and the dataset does not name one')
        if not results:  # the empty-result placeholder had no image to sit on: a bare IndexError
            raise ValueError('CocoMetric: no predictions were processed (is the evaluation dataset empty?)')
        raw = load_coco_json(ann_file)
        # each metric its own ground truth: segm leaves out annotations whose polygons are all degenerate, which
        # bbox scores as mmdet and pycocotools do (bbox_mAP changed with whether segm was asked for too)
        per_metric_gt = {metric: gt_for_cocoeval(copy.deepcopy(raw), [metric], ann_file) for metric in self.metrics}
        gt_data = per_metric_gt[self.metrics[0]]
        check_image_ids(results, gt_data, ann_file, (self.dataset_meta or {}).get('ann_file'))
        check_image_sizes(results, gt_data, ann_file)
        cat_ids = self._cat_ids(gt_data)
        per_metric = self.results_to_json(results, cat_ids, ann_file)
        with tempfile.TemporaryDirectory() as tmp:
            prefix = self.outfile_prefix or os.path.join(tmp, 'results')
            os.makedirs(os.path.dirname(os.path.abspath(prefix)), exist_ok=True)
            for metric, entries in per_metric.items():
                with atomic_path(f'{prefix}.{metric}.json') as path, open(path, 'w') as f:
                    json.dump(entries, f)
            if self.format_only:
                print_log(f'CocoMetric: results written to {prefix}.{{{",".join(self.metrics)}}}.json',
                          logger='current')
                return {}
            gts = {metric: coco_index(data) for metric, data in per_metric_gt.items()}
            return self._evaluate(gts, per_metric, cat_ids, sorted({r['img_id'] for r in results}))

    def _evaluate(self, gts: dict[str, COCO], per_metric: dict, cat_ids: list[int], img_ids: list
                  ) -> dict[str, float]:
        scores: dict[str, float] = {}
        for metric, entries in per_metric.items():
            gt = gts[metric]
            if not entries:  # pycocotools cannot load no results; one that overlaps nothing scores the same
                print_log(f'CocoMetric: no {metric} predictions on {len(img_ids)} images', logger='current')
                entries = [placeholder_result(gt, metric, img_ids[0], cat_ids[0])]
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                evaluator = COCOeval(gt, gt.loadRes(entries), metric)
                evaluator.params.catIds, evaluator.params.imgIds = cat_ids, img_ids
                evaluator.evaluate()
                evaluator.accumulate()
                evaluator.summarize()
            summary = [line for line in buffer.getvalue().splitlines() if line.startswith(' Average')]
            print_log(f'CocoMetric {metric} on {len(img_ids)} images:\n' + '\n'.join(summary), logger='current')
            scores.update({f'{metric}_{name}': round(float(v), 4) for name, v in zip(STAT_NAMES, evaluator.stats)})
            if self.classwise:
                scores.update(self._classwise(evaluator, metric, cat_ids, gt))
        return scores

    def _classwise(self, evaluator: COCOeval, metric: str, cat_ids: list[int], gt: COCO) -> dict[str, float]:
        """Per-class AP (IoU .50:.95, all areas, 100 detections): a logged table and one key per class."""
        precision = evaluator.eval['precision']  # (iou, recall, class, area, max_dets)
        rows, out = [], {}
        for k, cat_id in enumerate(evaluator.params.catIds):  # evaluate() sorted them: the class axis's order
            p = precision[:, :, k, 0, -1]
            ap = float(p[p > -1].mean()) if (p > -1).any() else float('nan')
            name = gt.cats[cat_id]['name']
            if sum(gt.cats[c]['name'] == name for c in evaluator.params.catIds) > 1:  # one key hid the other
                name = f'{name}_{cat_id}'
            rows.append(f'{name:<20} {ap:.3f}')
            out[f'{metric}_{name}_precision'] = round(ap, 4)
        print_log(f'CocoMetric {metric} per class AP:\n' + '\n'.join(rows), logger='current')
        return out
