"""CocoMetric: perfect predictions score 1, wrong ones less; classwise, segm, format-only and label errors."""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.structures import BaseDataElement, InstanceData

from resbackbones.evaluation import CocoMetric

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared COCO fixture writer
from coco_fixtures import write_coco  # noqa: E402

META = dict(classes=('cat', 'dog'), cat_ids=[1, 3])


def predictions(ann_file: Path, shift: float = 0.0, label_offset: int = 0, meta: dict = META
                ) -> list[BaseDataElement]:
    """The ground truth of every image as predictions (score 0.9), boxes shifted by ``shift`` pixels, labels in
    ``meta``'s class order."""
    data = json.loads(ann_file.read_text())
    out = []
    for img in data['images']:
        anns = [a for a in data['annotations'] if a['image_id'] == img['id']]
        boxes = torch.tensor([[a['bbox'][0] + shift, a['bbox'][1], a['bbox'][0] + a['bbox'][2] + shift,
                               a['bbox'][1] + a['bbox'][3]] for a in anns]).reshape(-1, 4)
        masks = torch.zeros(len(anns), img['height'], img['width'], dtype=torch.bool)
        for m, (x1, y1, x2, y2) in zip(masks, boxes.round().long().tolist()):
            m[y1:y2, x1:x2] = True
        labels = torch.tensor([meta['cat_ids'].index(a['category_id']) + label_offset for a in anns])
        s = BaseDataElement(metainfo=dict(img_id=img['id'], ori_shape=(img['height'], img['width']),
                                          img_path=f"images/{img['file_name']}"))
        s.pred_instances = InstanceData(bboxes=boxes, scores=torch.full((len(anns),), 0.9), labels=labels,
                                        masks=masks)
        out.append(s)
    return out


def evaluate(metric: CocoMetric, preds: list[BaseDataElement], meta: dict = META) -> dict:
    metric.dataset_meta = meta
    metric.process({}, preds)
    return metric.evaluate(len(preds))


@pytest.mark.parametrize('metric', ['bbox', 'segm'])
def test_perfect_predictions_score_one(tmp_path, metric):
    ann_file, _ = write_coco(tmp_path)
    scores = evaluate(CocoMetric(str(ann_file), metric=metric), predictions(ann_file))
    assert scores[f'coco/{metric}_mAP'] == pytest.approx(1.0) and scores[f'coco/{metric}_mAP_50'] == 1.0
    assert {f'coco/{metric}_{k}' for k in ('mAP_75', 'mAP_s', 'mAP_m', 'mAP_l')} <= set(scores)


def test_shifted_boxes_lose_strict_ap_but_keep_ap50(tmp_path):
    ann_file, _ = write_coco(tmp_path)
    scores = evaluate(CocoMetric(str(ann_file)), predictions(ann_file, shift=3.0))
    assert scores['coco/bbox_mAP_50'] == pytest.approx(1.0) and scores['coco/bbox_mAP'] < 0.8


def test_classwise_reports_each_class(tmp_path):
    ann_file, _ = write_coco(tmp_path)
    preds = predictions(ann_file)
    preds[1].pred_instances.labels[:] = 0  # the dog of image 2 called a cat
    scores = evaluate(CocoMetric(str(ann_file), classwise=True), preds)
    assert scores['coco/bbox_dog_precision'] < 0.6 < scores['coco/bbox_cat_precision'] == 1.0


@pytest.mark.parametrize('meta', [META, dict(classes=('dog', 'cat'), cat_ids=[3, 1])])
def test_classwise_names_each_class_in_any_class_order(tmp_path, meta):
    """pycocotools sorts the category ids it evaluates: classes listed out of id order got each other's AP."""
    ann_file, _ = write_coco(tmp_path)
    preds = predictions(ann_file, meta=meta)
    dog = meta['classes'].index('dog')
    for p in preds:  # every dog dropped: dog AP 0, cat AP 1
        p.pred_instances = p.pred_instances[p.pred_instances.labels != dog]
    scores = evaluate(CocoMetric(str(ann_file), classwise=True), preds, meta)
    assert scores['coco/bbox_cat_precision'] == 1.0 and scores['coco/bbox_dog_precision'] == 0.0


def test_an_image_of_another_size_than_its_json_is_named(tmp_path):
    """Predictions are in the loaded image's pixels: scored against the json's, a perfect model read 0 AP."""
    ann_file, _ = write_coco(tmp_path)
    preds = predictions(ann_file)
    preds[1].set_metainfo(dict(ori_shape=(32, 40)))  # e.g. the file downscaled after annotation
    with pytest.raises(ValueError, match=r'images/2.png loads as 32x40 \(HxW\) but .*ann.json gives 64x80: '
                                         r'resized after annotation, or rotated by an EXIF tag'):
        evaluate(CocoMetric(str(ann_file)), preds)


def test_mask_probabilities_are_cut_at_one_half(tmp_path):
    """test_cfg.rcnn.mask_thr_binary=None gives probabilities: '> 0' scored the whole pasted box (or image)."""
    ann_file, _ = write_coco(tmp_path)
    preds = predictions(ann_file)
    for p in preds:
        p.pred_instances.masks = p.pred_instances.masks.float() * 0.8 + 0.1  # 0.9 inside, 0.1 everywhere else
    assert evaluate(CocoMetric(str(ann_file), metric='segm'), preds)['coco/segm_mAP'] == pytest.approx(1.0)


def test_format_only_writes_submission_json(tmp_path):
    ann_file, _ = write_coco(tmp_path)
    prefix = tmp_path / 'out' / 'test-dev'
    scores = evaluate(CocoMetric(str(ann_file), metric=['bbox', 'segm'], format_only=True,
                                 outfile_prefix=str(prefix)), predictions(ann_file))
    assert scores == {}
    boxes = json.loads(Path(f'{prefix}.bbox.json').read_text())
    assert len(boxes) == 3 and {b['category_id'] for b in boxes} == {1, 3}
    assert boxes[0]['bbox'] == [10.0, 12.0, 20.0, 16.0]
    segm = json.loads(Path(f'{prefix}.segm.json').read_text())
    # no box in segm entries (as mmdet): pycocotools then takes their area for _s/_m/_l from the mask, not the box
    assert 'counts' in segm[0]['segmentation'] and not any('bbox' in entry for entry in segm)


def test_no_predictions_score_zero_and_bad_labels_raise(tmp_path):
    ann_file, _ = write_coco(tmp_path)
    empty = predictions(ann_file)
    for s in empty:
        s.pred_instances = s.pred_instances[torch.zeros(len(s.pred_instances), dtype=torch.bool)]
    scores = evaluate(CocoMetric(str(ann_file)), empty)
    # every object is small: COCOeval's -1 for the empty medium and large ranges (all read 0 before)
    assert scores['coco/bbox_mAP'] == scores['coco/bbox_mAP_s'] == 0.0
    assert scores['coco/bbox_mAP_m'] == scores['coco/bbox_mAP_l'] == -1.0
    with pytest.raises(ValueError, match='predicted label 2 for image id 1 is outside the 2 classes'):
        evaluate(CocoMetric(str(ann_file)), predictions(ann_file, label_offset=1))


@pytest.mark.parametrize('kwargs, match', [(dict(metric='proposal'), 'metric must be'),
                                           (dict(format_only=True), 'outfile_prefix'),
                                           (dict(outfile_prefix='results/'), 'ends in a separator'),
                                           # under a file: FileExistsError after the whole test
                                           (dict(outfile_prefix=__file__ + '/x'), 'cannot be created')])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CocoMetric(**kwargs)


def test_segm_needs_masks(tmp_path):
    ann_file, _ = write_coco(tmp_path)
    preds = predictions(ann_file)
    del preds[0].pred_instances.masks
    with pytest.raises(ValueError, match="'segm' needs pred_instances.masks"):
        evaluate(CocoMetric(str(ann_file), metric='segm'), preds)


def _edit(ann_file: Path, change) -> None:
    data = json.loads(ann_file.read_text())
    change(data)
    ann_file.write_text(json.dumps(data))


@pytest.mark.parametrize('metric, change', [
    ('bbox', lambda d: [a.pop('area') for a in d['annotations']]),  # KeyError 'area'
    ('segm', lambda d: [a.pop('area') for a in d['annotations']]),
    ('bbox', lambda d: [a.pop('iscrowd') for a in d['annotations']]),  # KeyError 'iscrowd'
    ('bbox', lambda d: [a.pop('segmentation') for a in d['annotations']]),  # box-only, no key at all
    ('bbox', lambda d: d['images'][0].update(height=str(d['images'][0]['height']))),  # 'loads as 48x80 ... 48x80'
    ('segm', lambda d: d['annotations'][0].update(segmentation=d['annotations'][0]['segmentation'][0])),  # TypeError
    ('segm', lambda d: d['annotations'][0]['segmentation'].append([1, 1, 2, 2])),  # a part of 2 points (passed before)
])
def test_ground_truth_the_dataset_accepts_is_scored(tmp_path, metric, change):
    """CocoDataset defaults iscrowd and area, reads a flat polygon as one, drops parts under 3 points and takes
    sizes with int(); COCOeval got the raw json and failed after the whole test pass."""
    ann_file, _ = write_coco(tmp_path)
    preds = predictions(ann_file)
    _edit(ann_file, change)
    assert evaluate(CocoMetric(str(ann_file), metric=metric), preds)[f'coco/{metric}_mAP'] == pytest.approx(1.0)


def test_segm_on_box_only_ground_truth_is_named(tmp_path):
    ann_file, _ = write_coco(tmp_path)
    preds = predictions(ann_file)
    _edit(ann_file, lambda d: [a.update(segmentation=[]) for a in d['annotations']])
    with pytest.raises(ValueError, match=r"metric 'segm' needs a mask on every annotation; .* has none"):
        evaluate(CocoMetric(str(ann_file), metric='segm'), preds)
    assert evaluate(CocoMetric(str(ann_file), metric='bbox'), predictions(ann_file))['coco/bbox_mAP'] == 1.0


def test_a_metric_named_twice_is_scored_once(tmp_path):
    # every detection was written twice: two perfect boxes read 0.835
    ann_file, _ = write_coco(tmp_path)
    assert evaluate(CocoMetric(str(ann_file), metric=['bbox', 'bbox']), predictions(ann_file))['coco/bbox_mAP'] == 1.0


def test_predictions_for_images_the_annotation_file_lacks_are_named(tmp_path):
    # pycocotools' bare 'Results do not correspond to current coco set', after the whole test
    ann_file, _ = write_coco(tmp_path)
    preds = predictions(ann_file)
    preds[0].set_metainfo(dict(img_id=7))
    with pytest.raises(ValueError, match=r'predictions for image ids \[7\] \(1 in all\) that .*ann.json does not hold'):
        evaluate(CocoMetric(str(ann_file)), preds)


def test_mask_predictions_as_rle_pass_and_of_another_size_are_named(tmp_path):
    from resbackbones.evaluation.coco_metric import encode_masks
    ann_file, _ = write_coco(tmp_path)
    preds = predictions(ann_file)
    for sample in preds:  # mmdet's form: crashed on .detach()
        sample.pred_instances.masks = encode_masks(sample.pred_instances.masks.numpy())
    assert evaluate(CocoMetric(str(ann_file), metric='segm'), preds)['coco/segm_mAP'] == pytest.approx(1.0)
    small = predictions(ann_file)
    small[0].pred_instances.masks = small[0].pred_instances.masks[:, :32, :40]  # scored 0 without a word
    with pytest.raises(ValueError, match=r'images/1.png: masks are \(32, 40\) but the image is \(64, 80\)'):
        evaluate(CocoMetric(str(ann_file), metric='segm'), small)


def test_a_polygon_of_two_points_is_left_out_of_the_segm_ground_truth(tmp_path):
    # refused after the whole test ('box-only ground truth'), though CocoDataset skips such an annotation
    ann_file, _ = write_coco(tmp_path)
    preds = predictions(ann_file)
    _edit(ann_file, lambda d: d['annotations'][0].update(segmentation=[[10, 12, 30, 28]]))
    scores = evaluate(CocoMetric(str(ann_file), metric='segm', classwise=True), preds)
    # the only cat left the ground truth: no cat AP, the dogs' 1.0 is the mean
    assert math.isnan(scores['coco/segm_cat_precision']) and scores['coco/segm_mAP'] == 1.0


def test_uncompressed_rle_without_area_is_measured(tmp_path):
    # COCO's crowd format: 'Expected bytes, got list' from pycocotools' merge
    ann_file, _ = write_coco(tmp_path)

    def to_uncompressed_rle(data):
        ann = data['annotations'][0]
        x, y, w, h = ann['bbox']
        mask = np.zeros((64, 80), np.uint8)
        mask[y:y + h, x:x + w] = 1
        flat = mask.flatten(order='F')
        edges = np.flatnonzero(np.diff(np.concatenate([[0], flat, [1 - flat[-1]]])))
        counts = np.diff(np.concatenate([[0], edges])).tolist()
        ann.update(segmentation=dict(size=[64, 80], counts=counts))
        ann.pop('area')
    _edit(ann_file, to_uncompressed_rle)
    assert evaluate(CocoMetric(str(ann_file), metric='segm'), predictions(ann_file))['coco/segm_mAP'] == 1.0


def test_classwise_keys_of_two_classes_of_one_name_stay_apart(tmp_path):
    ann_file, _ = write_coco(tmp_path, categories=[dict(id=1, name='cat'), dict(id=3, name='cat')])
    meta = dict(classes=('cat', 'cat'), cat_ids=[1, 3])
    scores = evaluate(CocoMetric(str(ann_file), classwise=True), predictions(ann_file, meta=meta), meta)
    assert {'coco/bbox_cat_1_precision', 'coco/bbox_cat_3_precision'} <= set(scores)


def test_bbox_scores_do_not_depend_on_segm_being_asked_for_too(tmp_path):
    # leaving the degenerate-polygon annotation out of the segm ground truth also took it out of bbox's
    ann_file, _ = write_coco(tmp_path)

    def missing_the_first():  # the degenerate annotation's object goes undetected
        preds = predictions(ann_file)
        preds[0].pred_instances = preds[0].pred_instances[1:]
        return preds
    assert json.loads(ann_file.read_text())['annotations'][0]['image_id'] == preds_image(ann_file)
    _edit(ann_file, lambda d: d['annotations'][0].update(segmentation=[[10, 12, 30, 28]]))
    alone = evaluate(CocoMetric(str(ann_file), metric='bbox'), missing_the_first())
    both = evaluate(CocoMetric(str(ann_file), metric=['bbox', 'segm']), missing_the_first())
    assert alone['coco/bbox_mAP'] < 1.0 and both['coco/bbox_mAP'] == alone['coco/bbox_mAP']


def preds_image(ann_file: Path) -> int:
    return json.loads(ann_file.read_text())['images'][0]['id']


@pytest.mark.parametrize('form', ['pycocotools', 'numpy'])
def test_masks_from_pycocotools_encode_or_numpy_score_as_tensors(tmp_path, form):
    # bytes counts failed in json.dump (a bare TypeError), numpy arrays on .detach()
    from pycocotools import mask as mask_utils
    ann_file, _ = write_coco(tmp_path)
    preds = predictions(ann_file)
    for sample in preds:
        masks = sample.pred_instances.masks.numpy()
        sample.pred_instances.masks = masks if form == 'numpy' else \
            list(mask_utils.encode(np.asfortranarray(masks.transpose(1, 2, 0).astype(np.uint8))))
    assert evaluate(CocoMetric(str(ann_file), metric='segm'), preds)['coco/segm_mAP'] == pytest.approx(1.0)


def test_no_processed_images_are_named(tmp_path):
    ann_file, _ = write_coco(tmp_path)
    metric = CocoMetric(str(ann_file))
    metric.dataset_meta = META
    with pytest.raises(ValueError, match='no predictions were processed'):  # IndexError img_ids[0]
        metric.compute_metrics([])
