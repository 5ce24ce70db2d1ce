"""CocoDataset: labels in category-id order, crowd and empty images as mmdet, and clear errors for bad files."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from resbackbones.datasets import CocoDataset
from resbackbones.datasets.coco_checks import CocoFormatError

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared COCO fixture writer
from coco_fixtures import rect_polygon, write_coco  # noqa: E402


def build(ann_file: Path, img_dir: Path, **kwargs) -> CocoDataset:
    return CocoDataset(ann_file=str(ann_file), data_prefix=dict(img=str(img_dir)), **kwargs)


def ids(ds: CocoDataset) -> list[int]:
    return [ds.get_data_info(i)['img_id'] for i in range(len(ds))]


def edit(ann_file: Path, fn) -> None:
    data = json.loads(ann_file.read_text())
    fn(data)
    ann_file.write_text(json.dumps(data))


def test_labels_follow_category_ids_and_boxes_are_xyxy(tmp_path):
    ds = build(*write_coco(tmp_path))
    assert ds.metainfo['classes'] == ('cat', 'dog') and ds.metainfo['cat_ids'] == [1, 3]
    first = ds.get_data_info(0)
    assert [i['bbox_label'] for i in first['instances']] == [0, 1]
    assert first['instances'][0]['bbox'] == [10, 12, 30, 28]
    assert ds.get_cat_ids(1) == [1]


@pytest.mark.parametrize('classes, labels', [(('dog',), [0]), (('dog', 'cat'), [1, 0])])
def test_classes_select_and_order_labels(tmp_path, classes, labels):
    ds = build(*write_coco(tmp_path), metainfo=dict(classes=classes))
    assert ds.metainfo['classes'] == classes
    assert [i['bbox_label'] for i in ds.get_data_info(0)['instances']] == labels


@pytest.mark.parametrize('classes, message', [('dog', r"classes must be a non-empty list of class names; got 'dog'"),
                                              (('dog', 'dog'), r"classes lists \['dog'\] more than once")])
def test_bad_classes_are_named(tmp_path, classes, message):
    """A string was read letter by letter ('d', 'o', 'g' are not categories); a repeat left a label never used."""
    with pytest.raises(ValueError, match=f'CocoDataset: {message}'):
        build(*write_coco(tmp_path), metainfo=dict(classes=classes))


def test_background_category_is_not_a_class(tmp_path):
    cats = [dict(id=0, name='_background_'), dict(id=1, name='cat'), dict(id=3, name='dog')]
    ds = build(*write_coco(tmp_path, categories=cats))
    assert ds.metainfo['classes'] == ('cat', 'dog')


def test_crowd_is_flagged_and_empty_images_filtered_only_in_training(tmp_path):
    ann_file, img_dir = write_coco(tmp_path, objects=(((10, 12, 20, 16, 1),), ()))
    edit(ann_file, lambda d: d['annotations'][0].update(iscrowd=1))
    train = build(ann_file, img_dir, filter_cfg=dict(filter_empty_gt=True))
    assert len(train) == 1 and train.get_data_info(0)['instances'][0]['ignore_flag'] == 1  # crowd counts as mmdet
    assert len(build(ann_file, img_dir, filter_cfg=dict(filter_empty_gt=True), test_mode=True)) == 2
    with pytest.raises(ValueError, match='leaves none of the 2 images'):
        build(ann_file, img_dir, filter_cfg=dict(min_size=100))


def test_filter_empty_gt_keeps_images_whose_annotations_were_all_skipped(tmp_path):
    """As mmdet's cat_img_map: image 2's only box is degenerate, so it trains as background (it was dropped)."""
    ann_file, img_dir = write_coco(tmp_path, objects=(((10, 12, 20, 16, 1),), ((5, 5, 0, 5, 3),), ()))
    train = build(ann_file, img_dir, filter_cfg=dict(filter_empty_gt=True))
    assert ids(train) == [1, 2] and train.get_data_info(1)['instances'] == []
    dogs = build(ann_file, img_dir, filter_cfg=dict(filter_empty_gt=True), metainfo=dict(classes=('dog',)))
    assert ids(dogs) == [2]  # annotations of other classes do not count


@pytest.mark.parametrize('bbox, reason', [([10, 10, 0, 5], 'zero area'), ([200, 200, 5, 5], 'wholly outside'),
                                          ([10, 10, 0.5, 8], 'under 1 px')])
def test_degenerate_boxes_are_skipped_and_counted_or_raise(tmp_path, capsys, bbox, reason):
    extra = [dict(image_id=1, category_id=1, bbox=bbox, area=1, iscrowd=0, segmentation=[rect_polygon(10, 10, 5, 5)])]
    ann_file, img_dir = write_coco(tmp_path, extra_anns=extra)
    ds = build(ann_file, img_dir)
    assert len(ds.get_data_info(0)['instances']) == 2  # the bad one (id 4) is gone, the two good ones stay
    with pytest.raises(CocoFormatError, match=r'image id 1 \(1.png\), annotation id 4'):
        build(ann_file, img_dir, on_invalid='error')


def test_boxes_partly_outside_are_clipped(tmp_path):
    ann_file, img_dir = write_coco(tmp_path, objects=(((70, 50, 20, 20, 1),),))  # image is 80 x 64
    assert build(ann_file, img_dir).get_data_info(0)['instances'][0]['bbox'] == [70, 50, 80, 64]


def test_short_polygons_drop_the_part_or_leave_the_box_alone(tmp_path):
    """As mmdet: an instance whose polygons are all degenerate keeps its box (a box-only model trains on it; it
    was dropped), and a model loading masks ignores it, with an empty mask."""
    from resbackbones.transforms import LoadDetAnnotations
    ann_file, img_dir = write_coco(tmp_path)
    edit(ann_file, lambda d: (d['annotations'][0].update(segmentation=[[1, 2, 3, 4], rect_polygon(10, 12, 20, 16)]),
                              d['annotations'][1].update(segmentation=[[1, 2, 3, 4]])))
    sample = build(ann_file, img_dir).get_data_info(0)
    instances = sample['instances']
    assert len(instances) == 2 and instances[0]['mask'] == [rect_polygon(10, 12, 20, 16)]
    assert instances[1]['mask'] is None and 'fewer than 3 points' in instances[1]['mask_invalid']
    boxes = LoadDetAnnotations()(dict(sample))
    assert boxes['gt_ignore_flags'].tolist() == [False, False] and len(boxes['gt_bboxes']) == 2
    masks = LoadDetAnnotations(with_mask=True)(dict(sample))
    assert masks['gt_ignore_flags'].tolist() == [False, True] and masks['gt_masks'][1].sum() == 0
    with pytest.raises(CocoFormatError, match='annotation id 1'):
        build(ann_file, img_dir, on_invalid='error')


def test_a_flat_polygon_list_is_one_polygon(tmp_path):
    """[x1, y1, ...] without the outer list, as some tools write it: it was dropped as 'fewer than 3 points',
    its box with it."""
    ann_file, img_dir = write_coco(tmp_path)
    edit(ann_file, lambda d: d['annotations'][0].update(segmentation=rect_polygon(10, 12, 20, 16)))
    instances = build(ann_file, img_dir).get_data_info(0)['instances']
    assert len(instances) == 2 and instances[0]['mask'] == [rect_polygon(10, 12, 20, 16)]


def rle_size(data: dict) -> list[int]:
    image = next(im for im in data['images'] if im['id'] == data['annotations'][0]['image_id'])
    return [image['height'], image['width']]


@pytest.mark.parametrize('change, match', [
    (lambda d: d['annotations'][0].update(category_id=7), r'image id 1, annotation id 1: category_id 7'),
    (lambda d: d['annotations'][0].update(image_id=99), 'annotation id 1 refers to image id 99'),
    (lambda d: [im.update(id=str(im['id'])) for im in d['images']],
     r"refers to image id 1, which is not in 'images' \(an int here, while the images' ids are strs"),
    (lambda d: d['annotations'][0].update(bbox=[1, 2, 3]), 'annotation id 1: bbox must be 4'),
    # a bare TypeError ('<=' between NoneType and int) that named neither file nor annotation
    (lambda d: d['annotations'][0].update(area=None), r'annotation id 1: area must be a finite number'),
    (lambda d: d['annotations'][1].update(id=1), 'annotations id 1 appears more than once'),
    (lambda d: d.pop('categories'), "list under 'categories'"),
    # pycocotools segfaulted or took all memory on these
    (lambda d: d['annotations'][0].update(segmentation=[[10, 10, 30, 10, None, 30]]),
     r'annotation id 1: polygon coordinates must be finite numbers'),
    (lambda d: d['annotations'][0].update(segmentation=[[10, 10, 30, 10, float('nan'), 30]]), 'finite numbers'),
    (lambda d: d['annotations'][0].update(segmentation=[[10, 10, 30, 10, 1e12, 30]]), 'lies far outside'),
    # these loaded as wrong or empty masks
    (lambda d: d['annotations'][0].update(segmentation=dict(size=rle_size(d), counts=[10, 20])),
     r'annotation id 1: RLE counts cover 30 pixels'),
    (lambda d: d['annotations'][0].update(segmentation=dict(size=rle_size(d), counts='!!!!')),
     "RLE counts string is not pycocotools' format"),
    (lambda d: d['annotations'][0].update(segmentation=dict(size=rle_size(d))), "RLE needs 'counts'"),
    # ids of mixed types (a json merged from two tools) and sizes that are no numbers: bare TypeErrors
    (lambda d: d['images'][1].update(id='x'), r"images ids mix types \(int such as \d+, str such as 'x'\)"),
    (lambda d: d['categories'][0].update(id=str(d['categories'][0]['id'])), 'categories ids mix types'),
    (lambda d: d['images'][0].update(height=None), r'image id 1: height must be a whole number of pixels >= 1; '
                                                   r'got None'),
])
def test_structural_errors_name_file_image_and_annotation(tmp_path, change, match):
    ann_file, img_dir = write_coco(tmp_path)
    edit(ann_file, change)
    with pytest.raises(CocoFormatError, match=match) as err:
        build(ann_file, img_dir)
    assert str(ann_file) in str(err.value)


def test_malformed_json_and_missing_image_name_the_file(tmp_path):
    ann_file, img_dir = write_coco(tmp_path)
    (img_dir / '2.png').unlink()
    with pytest.raises(FileNotFoundError, match=r'image id 2 lists 2.png'):
        build(ann_file, img_dir)
    ann_file.write_text('{"images": [')
    with pytest.raises(CocoFormatError, match=f'{ann_file} is not valid json'):
        build(ann_file, img_dir)


def test_polygons_as_point_pairs_are_named_as_such(tmp_path):
    # [[x, y], ...] (labelme / shapely style) was dropped as 'polygons with fewer than 3 points'
    ann_file, img_dir = write_coco(tmp_path)
    edit(ann_file, lambda d: d['annotations'][0].update(segmentation=[[10, 12], [20, 12], [20, 16], [10, 16]]))
    with pytest.raises(CocoFormatError, match=r'annotation id 1: polygons given as \[x, y\] point pairs \(COCO '
                                              r'polygons are flat'):
        build(ann_file, img_dir, on_invalid='error')
