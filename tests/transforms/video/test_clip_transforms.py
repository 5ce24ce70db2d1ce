"""Clip transforms: one box / flip for every frame, mmaction2's arithmetic and random draws, layouts and packing."""
import random
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from resbackbones.registry import TRANSFORMS
from resbackbones.transforms.video import (CenterCrop, ClipResize, Flip, FormatShape, MultiScaleCrop,
                                           PackActionInputs, RandomResizedCrop, TenCrop, ThreeCrop)

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/: mmaction2's code written out
from mmaction2_reference import mmaction2_multi_scale_crop_box, mmaction2_random_resized_crop_box  # noqa: E402


def clip(frames=4, h=48, w=64):
    """Frames whose pixel (t, y, x) encodes t, y and x, so any crop or flip is identifiable."""
    t, y, x = np.meshgrid(np.arange(frames), np.arange(h), np.arange(w), indexing='ij')
    return np.stack([t * 10, y, x], axis=-1).astype(np.uint8)


@pytest.mark.parametrize('scale, expected', [((-1, 32), (32, 43)), ((64, 24), (24, 32)), (0.5, (24, 32)),
                                             ((40, 30), (30, 40))])
def test_resize_keeps_ratio_as_mmcv(scale, expected):
    out = TRANSFORMS.build(dict(type='Resize', scale=scale))(dict(imgs=clip()))
    assert isinstance(TRANSFORMS.build(dict(type='Resize', scale=scale)), ClipResize)
    assert out['imgs'].shape == (4, *expected, 3) and out['img_shape'] == expected


def test_resize_exact_and_every_frame_alike():
    out = ClipResize((20, 10), keep_ratio=False)(dict(imgs=clip()))
    assert out['imgs'].shape == (4, 10, 20, 3)
    assert [int(f[..., 0].mean()) for f in out['imgs']] == [0, 10, 20, 30]  # frame order and content kept


@pytest.mark.parametrize('transform', [RandomResizedCrop(), MultiScaleCrop(32, scales=(1, 0.875, 0.75)),
                                       MultiScaleCrop(32, scales=(1, 0.8), random_crop=True, num_fixed_crops=13),
                                       CenterCrop(24), CenterCrop((30, 20))])
def test_crops_take_the_same_box_from_every_frame(transform):
    np.random.seed(0)
    random.seed(0)
    for _ in range(5):
        out = transform(dict(imgs=clip()))
        x1, y1, x2, y2 = out['crop_bbox']
        expected = clip()[:, y1:y2, x1:x2]
        np.testing.assert_array_equal(out['imgs'], expected)
        assert out['img_shape'] == (y2 - y1, x2 - x1)


def test_center_crop_and_multiscale_offsets_follow_mmaction2():
    assert CenterCrop(24)(dict(imgs=clip()))['crop_bbox'].tolist() == [20, 12, 44, 36]
    random.seed(3)
    boxes = {tuple(MultiScaleCrop(48, scales=(1,))(dict(imgs=clip()))['crop_bbox']) for _ in range(40)}
    assert boxes == {(0, 0, 48, 48), (16, 0, 64, 48), (8, 0, 56, 48)}  # corners and centre collapse to 3 boxes


@pytest.mark.parametrize('ours, reference', [
    (RandomResizedCrop(), mmaction2_random_resized_crop_box),
    (RandomResizedCrop((0.5, 1.0), (0.3, 3.0)),  # many draws do not fit: the tries and the fallback matter
     lambda h, w: mmaction2_random_resized_crop_box(h, w, (0.5, 1.0), (0.3, 3.0))),
    (MultiScaleCrop(32, scales=(1, 0.875, 0.75, 0.66)),
     lambda h, w: mmaction2_multi_scale_crop_box(h, w, (32, 32), (1, 0.875, 0.75, 0.66))),
    (MultiScaleCrop((40, 30), scales=(1, 0.8, 0.6), max_wh_scale_gap=2, num_fixed_crops=13),
     lambda h, w: mmaction2_multi_scale_crop_box(h, w, (40, 30), (1, 0.8, 0.6), 2, False, 13)),
    (MultiScaleCrop(32, scales=(1, 0.8), random_crop=True),
     lambda h, w: mmaction2_multi_scale_crop_box(h, w, (32, 32), (1, 0.8), 1, True)),
])
def test_random_boxes_are_mmaction2s_draw_for_draw(ours, reference):
    """From the same numpy and random states, the same box as mmaction2's code, over many draws and frame sizes:
    the same arithmetic and the same random calls in the same order, so a seeded run crops as mmaction2's."""
    for seed, (h, w) in enumerate([(48, 64), (64, 48), (37, 91), (50, 50)] * 25):
        np.random.seed(seed)
        random.seed(seed)
        box = ours(dict(imgs=clip(2, h, w)))['crop_bbox'].tolist()
        np.random.seed(seed)
        random.seed(seed)
        assert box == [int(v) for v in reference(h, w)], (seed, h, w)


def test_random_resized_crop_falls_back_to_the_centre_square():
    box = RandomResizedCrop.crop_box(10, 100, (1.0, 1.0), (50.0, 50.0))  # never fits: centre square
    assert box == (45, 0, 10, 10)


def test_three_and_ten_crop_stack_views_crop_major():
    out = ThreeCrop(48)(dict(imgs=clip()))
    assert out['imgs'].shape == (12, 48, 48, 3)
    assert [int(out['imgs'][4 * k, 0, 0, 2]) for k in range(3)] == [0, 16, 8]  # left, right, middle
    out = TenCrop(32)(dict(imgs=clip()))
    assert out['imgs'].shape == (40, 32, 32, 3)
    np.testing.assert_array_equal(out['imgs'][4:8], out['imgs'][0:4, :, ::-1])  # each crop then its flip


@pytest.mark.parametrize('crop', [ThreeCrop(48), TenCrop(20)])
@pytest.mark.parametrize('key, value', [('keypoint', np.zeros((1, 4, 17, 2))), ('gt_bboxes', np.zeros((1, 4)))])
def test_multi_crops_refuse_coordinates_they_cannot_split(crop, key, value):
    # they stayed in full-frame pixels under every view
    with pytest.raises(ValueError, match=rf"carries \['{key}'\], which .* cannot split over its crops"):
        crop(dict(imgs=clip(), **{key: value}))


def test_ten_crop_mirrors_flow_as_flip_does():
    # the mirrored views kept x motion pointing the original way, unlike every flipped view seen in training
    flow = np.full((2, 8, 8, 2), 128, np.uint8)
    flow[..., 0], flow[..., 1] = 200, 90
    out = TenCrop(4)(dict(imgs=flow.copy(), modality='Flow'))['imgs']
    flipped = Flip(1.0)(dict(imgs=flow.copy(), modality='Flow'))['imgs']
    assert out[2:4, 0, 0].tolist() == flipped[:, 0, 0].tolist() == [[55, 90]] * 2  # view 1: crop 0 mirrored
    assert out[0:2, 0, 0].tolist() == [[200, 90]] * 2


def test_flip_mirrors_all_frames_or_none():
    np.random.seed(0)
    seen = set()
    for _ in range(20):
        out = Flip(0.5)(dict(imgs=clip()))
        flipped = np.array_equal(out['imgs'], clip()[:, :, ::-1])
        assert flipped == out['flip'] and (flipped or np.array_equal(out['imgs'], clip()))
        seen.add(flipped)
    assert seen == {True, False}


@pytest.mark.parametrize('direction, negated', [('horizontal', 0), ('vertical', 1)])
def test_flipped_flow_negates_the_motion_along_the_flip(direction, negated):
    rng = np.random.default_rng(0)
    flow = rng.integers(0, 256, (3, 4, 5, 2), dtype=np.uint8)  # 3 frames of (x, y) fields
    out = Flip(1.0, direction=direction)(dict(imgs=flow.copy(), modality='Flow'))['imgs']
    mirrored = flow[:, :, ::-1] if direction == 'horizontal' else flow[:, ::-1]
    np.testing.assert_array_equal(out[..., negated], 255 - mirrored[..., negated])  # every frame, not every other
    np.testing.assert_array_equal(out[..., 1 - negated], mirrored[..., 1 - negated])
    with pytest.raises(ValueError, match='flow frames need 2 channels'):
        Flip(1.0)(dict(imgs=clip(), modality='Flow'))


@pytest.mark.parametrize('label, flipped', [
    (86, 87), (87, 86), (5, 5), ([86, 5], [87, 5]), (np.array([93]), np.array([94])),
    (np.eye(200, dtype=np.float32)[[86, 5]].sum(0), np.eye(200, dtype=np.float32)[[87, 5]].sum(0)),
])
def test_flip_moves_mirrored_classes(label, flipped):
    """Something-Something's left/right classes swap when the clip is mirrored; others and unflipped clips keep."""
    sthv2 = {86: 87, 87: 86, 93: 94, 94: 93}
    out = Flip(1.0, flip_label_map=sthv2)(dict(imgs=clip(), label=label, gt_label=label))
    assert out['flip']
    for key in ('label', 'gt_label'):
        np.testing.assert_array_equal(out[key], flipped)
    kept = Flip(0.0, flip_label_map=sthv2)(dict(imgs=clip(), label=label))
    np.testing.assert_array_equal(kept['label'], label)


def test_format_shape_layouts():
    imgs = clip(frames=2 * 3 * 4)  # 2 crops x 3 clips x 4 frames
    out = FormatShape('NCTHW')(dict(imgs=imgs, clip_len=4, num_clips=3))['imgs']
    assert out.shape == (6, 3, 4, 48, 64)
    np.testing.assert_array_equal(out[5, :, 2], imgs[5 * 4 + 2].transpose(2, 0, 1))
    out = FormatShape('NCHW')(dict(imgs=imgs))['imgs']
    assert out.shape == (24, 3, 48, 64)
    assert FormatShape('NCTHW', collapse=True)(dict(imgs=clip(), clip_len=4, num_clips=1))['imgs'].shape == \
        (3, 4, 48, 64)
    with pytest.raises(ValueError, match='do not split into clips of clip_len=5'):
        FormatShape('NCTHW')(dict(imgs=clip(), clip_len=5, num_clips=1))


def test_pack_action_inputs():
    results = FormatShape('NCTHW')(dict(imgs=clip(), clip_len=4, num_clips=1, label=3, filename='a.mp4'))
    packed = PackActionInputs()(results)
    assert packed['inputs'].dtype == torch.uint8 and packed['inputs'].shape == (1, 3, 4, 48, 64)
    assert packed['data_samples'] == dict(gt_label=3, filename='a.mp4', num_clips=1, clip_len=4)


@pytest.mark.parametrize('transform, message', [
    (lambda: CenterCrop(100), 'crop 100x100 .* is larger than the frames 64x48 of v.mp4; Resize first'),
    (lambda: ThreeCrop(30), 'must match the frame width or height'),
    (lambda: ClipResize((0, 10)), 'scale must be'),
    (lambda: MultiScaleCrop(32, num_fixed_crops=7), 'num_fixed_crops must be 5 or 13'),
    (lambda: Flip(1.5), 'flip_ratio must be in'),
    (lambda: Flip(0.5, flip_label_map={'left': 'right'}), 'flip_label_map must map class indices'),
])
def test_bad_input_is_named(transform, message):
    with pytest.raises(ValueError, match=message):
        transform()(dict(imgs=clip(), filename='v.mp4'))


def test_missing_frames_say_what_to_put_first():
    with pytest.raises(ValueError, match="put PyAVDecode or RawFrameDecode first"):
        CenterCrop(8)(dict(filename='v.mp4'))
