"""COCO-format detection / instance segmentation dataset on pycocotools, with mmdet's options and sample layout."""
from __future__ import annotations

import os
from typing import Any, Callable, Sequence

from mmengine.dataset import BaseDataset
from mmengine.logging import print_log
from pycocotools.coco import COCO

from ..registry import DATASETS, TRANSFORMS
from .base import check_classes
from .coco_checks import CocoFormatError, Tally, check_box, check_segmentation, load_coco_json

ON_INVALID = ('skip', 'error')


@DATASETS.register_module()
class CocoDataset(BaseDataset):
    """Images + a COCO annotation json (train2017/val2017 layout, or any tool's COCO export).

    Labels: category ids map to contiguous labels 0..K-1 in ascending category id (COCO's 80 classes in their
    usual order); with ``metainfo=dict(classes=(...))`` only those categories are kept and label i is classes[i].
    Categories named in ``background_names`` (labelme's '_background_') are never classes.

    Each sample before the pipeline: ``img_id, img_path, height, width, instances`` with one dict per annotation:
    ``bbox`` [x1, y1, x2, y2] (clipped to the image), ``bbox_label``, ``mask`` (polygons or RLE, None if absent),
    ``ignore_flag`` (1 for iscrowd, as mmdet), ``ann_id``.

    Args:
        ann_file: the json. data_root: prefix of ann_file and data_prefix. data_prefix: ``dict(img='train2017/')``.
        filter_cfg: training only (not ``test_mode``): ``filter_empty_gt`` drops images without an annotation of
            the kept classes in the json (as mmdet: crowd ones count, and so do ones skipped as degenerate, so an
            image whose only boxes were degenerate trains as background), ``min_size`` drops images with a smaller
            side.
        on_invalid: 'skip' (default, as mmdet: degenerate boxes/polygons are dropped, counted and printed) or
            'error' (raise on the first, naming file, image id and annotation id). See ``coco_checks``.
        background_names: category names never used as classes.
        pipeline: transform configs (built from our TRANSFORMS) or callables.
    Images listed in the json but missing on disk always raise, naming the file and image id.
    """

    METAINFO: dict = dict(classes=None)

    def __init__(self, ann_file: str, data_root: str = '', data_prefix: dict | None = None,
                 filter_cfg: dict | None = None, on_invalid: str = 'skip',
                 background_names: Sequence[str] = ('_background_',), pipeline: Sequence[dict | Callable] = (),
                 **kwargs: Any):
        if on_invalid not in ON_INVALID:
            raise ValueError(f'CocoDataset: on_invalid must be one of {ON_INVALID}; got {on_invalid!r}')
        unknown = sorted(set(filter_cfg or {}) - {'filter_empty_gt', 'min_size'})
        if unknown:
            raise ValueError(f'CocoDataset: unknown filter_cfg keys {unknown}; known: filter_empty_gt, min_size')
        self.on_invalid, self.background_names = on_invalid, tuple(background_names)
        built = [TRANSFORMS.build(t) if isinstance(t, dict) else t for t in pipeline]
        super().__init__(ann_file=ann_file, data_root=data_root, data_prefix=dict(data_prefix or dict(img='')),
                         filter_cfg=filter_cfg, pipeline=built, **kwargs)

    def _categories(self, data: dict) -> tuple[list[int], tuple[str, ...]]:
        """(category id of each label, class names) from the json and ``metainfo['classes']``."""
        cats = sorted((c for c in data['categories'] if c['name'] not in self.background_names), key=lambda c: c['id'])
        wanted = check_classes(self._metainfo.get('classes'), 'CocoDataset')  # a string, a repeat: named errors
        if wanted is None:
            return [c['id'] for c in cats], tuple(c['name'] for c in cats)
        by_name: dict[str, int] = {}
        for c in cats:
            if c['name'] in by_name:
                raise CocoFormatError(f'{self.ann_file}: category name {c["name"]!r} is used by ids '
                                      f'{by_name[c["name"]]} and {c["id"]}; classes by name are ambiguous')
            by_name[c['name']] = c['id']
        absent = [name for name in wanted if name not in by_name]
        if absent:
            raise ValueError(f'CocoDataset: classes {absent} are not categories of {self.ann_file} '
                             f'({sorted(by_name)[:20]})')
        return [by_name[name] for name in wanted], tuple(wanted)

    def load_data_list(self) -> list[dict]:
        """Parse and validate the json into samples; prints one line of counts of what was skipped or clipped."""
        data = load_coco_json(self.ann_file)
        self.cat_ids, classes = self._categories(data)
        self.cat2label = {cat_id: i for i, cat_id in enumerate(self.cat_ids)}
        self._metainfo.update(classes=classes, cat_ids=list(self.cat_ids), ann_file=self.ann_file)
        self.coco = COCO()
        self.coco.dataset = data
        self.coco.createIndex()
        if not self.coco.imgs:
            raise CocoFormatError(f"{self.ann_file}: 'images' is empty")
        tally = Tally(self.ann_file)
        data_list = [self._parse_image(self.coco.imgs[img_id], tally) for img_id in sorted(self.coco.imgs)]
        num = sum(len(d['instances']) for d in data_list)
        text = f'CocoDataset {self.ann_file}: {len(data_list)} images, {num} instances of {len(classes)} classes'
        print_log(text + (f'; {tally.summary()}' if tally.counts else ''), logger='current')
        return data_list

    def _parse_image(self, img: dict, tally: Tally) -> dict:
        img_path = os.path.join(self.data_prefix.get('img', ''), img['file_name'])
        if not os.path.isfile(img_path):
            raise FileNotFoundError(f'{self.ann_file}: image id {img["id"]} lists {img["file_name"]}, but '
                                    f'{img_path} does not exist')
        height, width = int(img['height']), int(img['width'])
        instances = []
        for ann in self.coco.imgToAnns.get(img['id'], []):
            where = f'{self.ann_file}, image id {img["id"]} ({img["file_name"]}), annotation id {ann["id"]}'
            if ann['category_id'] not in self.cat2label:
                tally.add('annotations of categories not among the classes', where)
                continue
            if ann.get('ignore', False):
                tally.add("annotations marked 'ignore'", where)
                continue
            box, reason, clipped = check_box(ann, height, width, where)
            mask, mask_reason, dropped = check_segmentation(ann.get('segmentation'), height, width, where)
            problem = reason or mask_reason
            if problem is not None or dropped:
                if self.on_invalid == 'error':
                    raise CocoFormatError(f'{where}: {problem or "polygon parts with fewer than 3 points"} '
                                          f'(bbox {ann["bbox"]}); pass on_invalid=\'skip\' to drop them')
                tally.add(reason or (f'{mask_reason} (the box kept; ignored where masks load)' if mask_reason
                                     else 'polygon parts with < 3 points dropped'), where)
                if reason is not None:
                    continue
            if clipped:
                tally.add('boxes clipped to the image', where)
            instance = dict(bbox=box, bbox_label=self.cat2label[ann['category_id']], mask=mask,
                            ignore_flag=int(bool(ann.get('iscrowd', 0))), ann_id=ann['id'])
            if mask_reason is not None:  # as mmdet: the box trains a box-only model; a mask model ignores it
                instance['mask_invalid'] = mask_reason
            instances.append(instance)
        return dict(img_id=img['id'], img_path=img_path, height=height, width=width, instances=instances)

    def filter_data(self) -> list[dict]:
        """mmdet's filter: in training drop images without annotations (filter_empty_gt) or smaller than min_size."""
        if self.test_mode or not self.filter_cfg:
            return self.data_list
        empty, min_size = self.filter_cfg.get('filter_empty_gt', False), self.filter_cfg.get('min_size', 0)
        # mmdet's cat_img_map: what the json annotates, before degenerate or 'ignore' annotations are skipped
        annotated = {img_id for cat_id in self.cat_ids for img_id in self.coco.catToImgs.get(cat_id, ())}
        kept = [d for d in self.data_list if not (empty and d['img_id'] not in annotated)
                and min(d['width'], d['height']) >= min_size]
        if not kept:
            raise ValueError(f'CocoDataset {self.ann_file}: filter_cfg {self.filter_cfg} leaves none of the '
                             f'{len(self.data_list)} images')
        if len(kept) < len(self.data_list):
            print_log(f'CocoDataset {self.ann_file}: filter_cfg {self.filter_cfg} kept {len(kept)} of '
                      f'{len(self.data_list)} images', logger='current')
        return kept

    def get_cat_ids(self, idx: int) -> list[int]:
        """Labels present in sample ``idx`` (for class-aware samplers)."""
        return sorted({inst['bbox_label'] for inst in self.get_data_info(idx)['instances']})
