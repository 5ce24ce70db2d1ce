"""Detection transforms keep boxes and masks consistent with the image through resize, flips, crops and jitter."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from resbackbones.registry import TRANSFORMS
from resbackbones.transforms import DetAlbu, DetResize, InstanceMap, LoadDetAnnotations, PackDetInputs
from resbackbones.transforms.det_resize import rescale_size


def sample(h: int = 60, w: int = 100) -> dict:
    """Two rectangles, their exact polygons and a crowd flag on the second; image bright where the objects are."""
    rects = [(10, 5, 30, 20), (50, 30, 40, 25)]
    img = np.zeros((h, w, 3), np.uint8)
    instances = []
    for i, (x, y, bw, bh) in enumerate(rects):
        img[y:y + bh, x:x + bw] = 255
        instances.append(dict(bbox=[x, y, x + bw, y + bh], bbox_label=i, ignore_flag=i,
                              mask=[[x, y, x + bw, y, x + bw, y + bh, x, y + bh]], ann_id=i + 1))
    results = dict(img=img, img_path='x.png', img_id=7, height=h, width=w, instances=instances,
                   ori_shape=(h, w), img_shape=(h, w))
    return LoadDetAnnotations(with_mask=True)(results)


def mask_boxes(masks: np.ndarray) -> np.ndarray:
    """Tight [x1, y1, x2 + 1, y2 + 1] box of each mask."""
    out = []
    for m in masks:
        ys, xs = np.nonzero(m)
        out.append([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
    return np.array(out, np.float32)


def test_load_decodes_polygons_to_the_boxes():
    r = sample()
    assert r['gt_masks'].shape == (2, 60, 100) and r['gt_masks'].dtype == np.uint8
    np.testing.assert_allclose(mask_boxes(r['gt_masks']), r['gt_bboxes'], atol=1)
    assert r['gt_ignore_flags'].tolist() == [False, True] and r['gt_labels'].dtype == np.int64


def test_masks_decode_as_pycocotools_does_in_c_order():
    """Polygons, compressed and uncompressed RLE and an empty mask: equal to pycocotools' own decoding, and
    C-contiguous (pycocotools' column order would cost every later transform a transposing copy)."""
    from pycocotools import mask as mask_utils
    from resbackbones.transforms.det_loading import decode_masks
    h, w = 37, 53
    rng = np.random.default_rng(0)
    blob = np.zeros((h, w), np.uint8, order='F')
    blob[5:30, 20:50] = rng.random((25, 30)) > 0.4
    compressed = mask_utils.encode(blob)
    compressed['counts'] = compressed['counts'].decode()  # as COCO json holds it
    uncompressed = dict(size=[h, w], counts=_uncompressed(blob))
    polygon = [[2.0, 2.0, 12.5, 3.0, 9.0, 14.0, 3.0, 10.0], [40.0, 30.0, 50.0, 30.0, 45.0, 36.0]]
    empty = mask_utils.encode(np.zeros((h, w), np.uint8, order='F'))
    segmentations = [polygon, compressed, uncompressed, empty]
    masks = decode_masks(segmentations, h, w)
    assert masks.flags['C_CONTIGUOUS'] and masks.dtype == np.uint8 and masks.shape == (4, h, w)
    expected = [mask_utils.decode(mask_utils.merge(mask_utils.frPyObjects(polygon, h, w))), blob, blob,
                np.zeros((h, w), np.uint8)]
    for mask, want in zip(masks, expected):
        np.testing.assert_array_equal(mask, want)
    assert masks[0].any() and not masks[3].any()


def _uncompressed(mask: np.ndarray) -> list[int]:
    """COCO's uncompressed RLE counts (column-major runs, starting with zeros)."""
    flat = mask.flatten(order='F')
    changes = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate([[0], changes, [flat.size]])
    runs = np.diff(bounds).tolist()
    return ([0] + runs) if flat[0] else runs


def test_load_refuses_an_image_of_another_size_and_a_missing_mask():
    r = sample()
    r['height'] = 61
    with pytest.raises(ValueError, match=r'x.png \(image id 7\).*\(61, 100\)'):
        LoadDetAnnotations()(r)
    r = sample()
    r['instances'][1]['mask'] = None
    with pytest.raises(ValueError, match='annotation id 2: no segmentation'):
        LoadDetAnnotations(with_mask=True)(r)


@pytest.mark.parametrize('h, w, scale, expected', [(60, 100, (1333, 800), (800, 1333)), (800, 600, (1333, 800),
                                                   (1067, 800)), (100, 400, (1333, 800), (333, 1333))])
def test_rescale_size_keeps_ratio_within_long_and_short_edges(h, w, scale, expected):
    assert rescale_size(h, w, scale, keep_ratio=True) == expected


@pytest.mark.parametrize('scale', [(200, 120), (50, 30)])
def test_resize_moves_boxes_and_masks_with_the_image(scale):
    r = DetResize(scale)(sample())
    assert r['img'].shape[:2] == r['img_shape'] == r['gt_masks'].shape[1:]
    np.testing.assert_allclose(mask_boxes(r['gt_masks']), r['gt_bboxes'], atol=1.01)
    assert r['scale_factor'] == (r['img_shape'][1] / 100, r['img_shape'][0] / 60)


@pytest.mark.parametrize('transforms', [
    [dict(type='HorizontalFlip', p=1.0)], [dict(type='VerticalFlip', p=1.0)], [dict(type='RandomRotate90', p=1.0)],
    [dict(type='RandomCrop', height=40, width=60)], [dict(type='ColorJitter', brightness=0.3, p=1.0)]])
def test_albu_keeps_masks_boxes_labels_and_flags_together(transforms):
    before = sample()
    r = DetAlbu(transforms)(sample())
    n = len(r['gt_bboxes'])
    assert len(r['gt_masks']) == len(r['gt_labels']) == len(r['gt_ignore_flags']) == n
    np.testing.assert_allclose(mask_boxes(r['gt_masks']), r['gt_bboxes'], atol=1.01)
    for box, mask, label in zip(r['gt_bboxes'], r['gt_masks'], r['gt_labels']):  # the image moved with them
        assert r['img'][mask.astype(bool)].min() > 0, f'label {label}: mask not on its object'
        assert mask.sum() == before['gt_masks'][label].sum() or 'Crop' in transforms[0]['type']


@pytest.mark.parametrize('before', [{}, dict(scale_factor=(0.5, 0.25))])
def test_albu_resize_multiplies_the_scale_factor(before):
    """A DetAlbu resize left scale_factor as it was (absent, or DetResize's), and a later Pad makes the detector
    map test boxes back by it: they landed in the resized image's pixels."""
    r = DetAlbu([dict(type='Resize', height=30, width=25)])(dict(sample(), **before))
    w, h = before.get('scale_factor', (1.0, 1.0))
    assert r['img_shape'] == (30, 25) and r['scale_factor'] == pytest.approx((w * 25 / 100, h * 30 / 60))
    flipped = DetAlbu([dict(type='HorizontalFlip', p=1.0)])(dict(sample(), **before))
    assert flipped.get('scale_factor') == before.get('scale_factor')  # the size did not change


@pytest.mark.parametrize('position, mapped', [('top_left', True), ('center', False)])
def test_albu_letterbox_maps_test_boxes_back_or_is_refused(position, mapped):
    """LongestMaxSize + PadIfNeeded: the pad was read as a rescale (scale_factor (1.0, 1.7) where it is
    (1.0, 1.0)), so test boxes came back in the wrong rows. A right/bottom pad now keeps the content's img_shape
    and records pad_shape: boxes map back exactly; a centred pad moved the content and mapping back is refused."""
    from resbackbones.models.detectors.two_stage import to_original_pixels
    letterbox = DetAlbu([dict(type='LongestMaxSize', max_size=50),
                         dict(type='PadIfNeeded', min_height=50, min_width=50, position=position, border_mode=0)])
    r = letterbox(sample())
    meta = PackDetInputs()(r)['data_samples'].metainfo
    boxes = torch.from_numpy(r['gt_bboxes'])
    if not mapped:
        with pytest.raises(ValueError, match=r"x.png: DetAlbu\(\['LongestMaxSize', 'PadIfNeeded'\]\) moved"):
            to_original_pixels(boxes, meta, r['img'].shape[:2], (60, 100))
        return
    assert meta['img_shape'] == (30, 50) and meta['pad_shape'] == (50, 50)
    assert meta['scale_factor'] == pytest.approx((0.5, 0.5))
    torch.testing.assert_close(to_original_pixels(boxes, meta, r['img'].shape[:2], (60, 100)),
                               torch.tensor([[10., 5, 40, 25], [50, 30, 90, 55]]))


def test_albu_training_draws_are_those_without_the_probes():
    """The probe boxes ride along with the instances: the same seeded crop keeps the same instances."""
    crop = [dict(type='RandomCrop', height=40, width=60), dict(type='HorizontalFlip', p=0.5)]
    torch.manual_seed(0)
    probed = DetAlbu(crop)(sample())
    torch.manual_seed(0)
    plain = DetAlbu(crop)
    plain.probe = False
    unprobed = plain(sample())
    assert np.array_equal(probed['img'], unprobed['img']) and np.allclose(probed['gt_bboxes'], unprobed['gt_bboxes'])
    assert 'geometry_moved' in probed and 'geometry_moved' not in unprobed


def test_resize_after_another_compounds_the_scale_factor():
    """DetAlbu's resize to half, then DetResize to double: the factor from the original is 1, not 2 (a later Pad
    maps boxes back by it)."""
    halved = DetAlbu([dict(type='Resize', height=30, width=50)])(sample())
    r = DetResize((100, 60), keep_ratio=False)(halved)
    assert r['img_shape'] == (60, 100) and r['scale_factor'] == pytest.approx((1.0, 1.0))


def test_resize_moves_a_semantic_map_and_keypoints_too():
    # they stayed at the old size (mmcv's Resize moves them)
    r = sample()
    r['gt_seg_map'] = (r['img'][..., 0] > 0).astype(np.uint8)
    r['gt_keypoints'] = np.array([[[10.0, 5.0]]], np.float32)
    r = DetResize((200, 120))(r)
    assert r['gt_seg_map'].shape == r['img_shape'] == (120, 200)
    assert ((r['gt_seg_map'] == 1) == (r['img'][..., 0] == 255)).mean() > 0.97  # edges: bilinear vs nearest
    np.testing.assert_allclose(r['gt_keypoints'], [[[20.0, 10.0]]])


@pytest.mark.parametrize('change, message', [
    (lambda r: r.pop('gt_bboxes'), 'has instance masks but no gt_bboxes'),  # every mask dropped, labels kept
    (lambda r: r.update(gt_masks=r['gt_masks'][:1]), 'has 1 masks for 2 boxes'),  # truncated
    (lambda r: r.update(gt_seg_map=np.zeros((60, 100), np.uint8)), r"carries \['gt_seg_map'\], which DetAlbu does not "
                                                                   r'move'),
    (lambda r: r.update(gt_keypoints=np.zeros((1, 1, 2))), r"carries \['gt_keypoints'\]"),
])
def test_albu_refuses_what_it_would_drop_or_leave_behind(change, message):
    r = sample()
    change(r)
    with pytest.raises(ValueError, match=message):
        DetAlbu([dict(type='HorizontalFlip', p=1.0)])(r)


def test_albu_drops_instances_cropped_away():
    r = sample()
    r = DetAlbu([dict(type='Crop', x_min=0, y_min=0, x_max=45, y_max=30)])(r)
    assert r['gt_labels'].tolist() == [0] and r['gt_masks'].shape == (1, 30, 45)


def test_pack_splits_crowd_into_ignored_instances():
    out = PackDetInputs()(DetResize((200, 120))(sample()))
    assert out['inputs'].shape == (3, 120, 200) and out['inputs'].dtype == torch.uint8
    ds = out['data_samples']
    assert ds.gt_instances.labels.tolist() == [0] and ds.ignored_instances.labels.tolist() == [1]
    assert ds.gt_instances.masks.shape == (1, 120, 200)
    assert ds.metainfo['img_id'] == 7 and ds.metainfo['ori_shape'] == (60, 100)
    assert ds.metainfo['img_shape'] == (120, 200)


def test_pack_reads_integer_ignore_flags_as_flags():
    """0/1 integers from a custom loader: '~' made them indices -1/-2, training on the crowd box (labels [1, 1])."""
    results = sample()
    results['gt_ignore_flags'] = results['gt_ignore_flags'].astype(np.int64)
    ds = PackDetInputs()(results)['data_samples']
    assert ds.gt_instances.labels.tolist() == [0] and ds.ignored_instances.labels.tolist() == [1]
    del results['gt_labels']
    with pytest.raises(ValueError, match='x.png has gt_bboxes but no gt_labels'):  # a bare KeyError
        PackDetInputs()(results)


@pytest.mark.parametrize('direction', ['horizontal', 'vertical', 'diagonal'])
def test_random_flip_by_name_flips_masks_and_map_with_the_boxes(direction):
    flip = TRANSFORMS.build(dict(type='RandomFlip', prob=1.0, direction=direction))  # an mmdet config's name
    r = flip(sample())
    np.testing.assert_allclose(mask_boxes(r['gt_masks']), r['gt_bboxes'], atol=1.01)
    m = flip(InstanceMap()(sample()))
    np.testing.assert_array_equal(PackDetInputs()(m)['data_samples'].gt_instances.masks.numpy(), r['gt_masks'][:1])


def test_pack_refuses_masks_left_behind_by_a_resize():
    r = TRANSFORMS.build(dict(type='mmcv.Resize', scale=(50, 30)))(sample())  # mmcv's Resize moves no masks
    with pytest.raises(ValueError, match=r'x\.png: gt_masks are \(60, 100\) but the image is \(30, 50\)'):
        PackDetInputs()(r)
