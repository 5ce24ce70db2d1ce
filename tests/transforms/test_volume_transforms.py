"""Volume transforms: 3D patches with nnU-Net's foreground oversampling, flips, rot90, affine, packing."""
from __future__ import annotations

import numpy as np
import pytest

from resbackbones.transforms import PackVolumeInputs, RandomAffine3D, RandomFlip3D, RandomPatch3D, RandomRot90In3D


def sample(shape=(10, 20, 16), channels=2):
    img = np.random.RandomState(0).rand(channels, *shape).astype(np.float32)
    labels = np.zeros(shape, np.int64)
    labels[7:9, 15:18, 2:4] = 1  # a small foreground blob near a corner
    return dict(img=img, gt_seg_map=labels, img_path='case.nii.gz', ignore_index=255)


def test_patch_crops_image_and_labels_at_the_same_place():
    s = sample()
    s['img'][0] = np.arange(s['img'][0].size).reshape(s['img'][0].shape)
    out = RandomPatch3D((4, 8, 6), fg_prob=0, seed=1).transform(dict(s))
    assert out['img'].shape == (2, 4, 8, 6) and out['gt_seg_map'].shape == (4, 8, 6)
    d, h, w = np.unravel_index(int(out['img'][0, 0, 0, 0]), s['img'][0].shape)
    assert np.array_equal(out['gt_seg_map'], s['gt_seg_map'][d:d + 4, h:h + 8, w:w + 6])


def test_foreground_oversampling_follows_fg_prob():
    hits = {}
    for prob in (0.0, 1.0):
        crop = RandomPatch3D((4, 4, 4), fg_prob=prob, seed=0)
        hits[prob] = np.mean([crop.transform(sample())['gt_seg_map'].any() for _ in range(60)])
    assert hits[1.0] == 1.0 and hits[0.0] < 0.3


def test_foreground_cache_keeps_only_live_label_volumes():
    """A flip before the crop makes a new read-only view per sample; their cached foreground indices were never
    dropped (78 entries, 48 MiB after 300 samples of a 40^3 volume), while the cached volume's own stays."""
    crop, flip = RandomPatch3D((4, 4, 4), fg_prob=1.0, seed=0), RandomFlip3D(prob=1.0, axes=(0,))
    cached = sample()
    cached['gt_seg_map'].flags.writeable = False  # as the dataset's in-memory volumes
    for _ in range(20):
        crop.transform(flip.transform(dict(cached)))
    crop.transform(dict(cached))
    assert len(crop._foreground) == 1 and id(cached['gt_seg_map']) in crop._foreground


def test_patch_larger_than_the_volume_is_padded_with_ignore():
    out = RandomPatch3D((12, 20, 20), seed=0).transform(sample())
    assert out['img'].shape == (2, 12, 20, 20)
    assert (out['gt_seg_map'][10:] == 255).all() and (out['img'][:, 10:] == 0).all()


def test_flip_and_rot90_move_labels_with_the_image():
    s = sample((6, 8, 8))
    s['img'][0] = s['gt_seg_map'] = np.random.RandomState(1).randint(0, 3, (6, 8, 8))
    for t in (RandomFlip3D(prob=1.0, seed=0), RandomRot90In3D(prob=1.0, seed=0)):
        out = t.transform(dict(s))
        assert np.array_equal(out['img'][0], out['gt_seg_map'])
        assert not np.array_equal(out['gt_seg_map'], s['gt_seg_map'])


def test_a_quarter_turn_swaps_the_spacing_and_shape_of_its_plane():
    # an anisotropic volume kept (3.0, 0.5, 0.8) after D and H traded places: HD95 in mm read the wrong voxel sizes
    s = dict(sample((4, 6, 8)), spacing=(3.0, 0.5, 0.8), img_shape=(4, 6, 8))
    turned = [RandomRot90In3D(prob=1.0, axes=(0, 1), seed=seed).transform(dict(s)) for seed in range(6)]
    for out in turned:
        shape = out['gt_seg_map'].shape
        assert out['img_shape'] == shape and out['spacing'] == ((0.5, 3.0, 0.8) if shape == (6, 4, 8) else
                                                                (3.0, 0.5, 0.8))
    assert any(out['gt_seg_map'].shape == (6, 4, 8) for out in turned)


def test_affine_keeps_labels_aligned_and_marks_outside_as_ignored():
    s = sample((12, 12, 12), channels=1)
    labels = np.zeros((12, 12, 12), np.int64)
    labels[3:9, 3:9, 3:9] = 1
    s['img'][0], s['gt_seg_map'] = labels.astype(np.float32), labels
    out = RandomAffine3D(prob=1.0, rotate=20, scale=(0.7, 0.7), seed=0).transform(s)
    inside = out['gt_seg_map'] != 255
    assert (~inside).any()  # zoomed out by 1/0.7: corners come from outside
    agree = (out['img'][0][inside] > 0.5) == (out['gt_seg_map'][inside] == 1)
    assert agree.mean() > 0.97


@pytest.mark.parametrize('transform, message', [
    (lambda: RandomPatch3D((4, 4)), r'size must be a positive int or \(d, h, w\)'),
    (lambda: RandomFlip3D(axes=(3,)), 'axes must be a non-empty subset'),
    (lambda: RandomFlip3D(axes=(1, 1)), r'each once; got \(1, 1\)'),  # failed when both draws flipped it
    (lambda: RandomFlip3D(axes=1), 'axes must be a non-empty subset'),  # a TypeError
    (lambda: RandomRot90In3D(axes=(1, 1)), 'axes must be two of'),
    (lambda: RandomAffine3D(scale=(1.2, 0.8)), 'scale'),
    # each a bare TypeError that named no argument
    (lambda: RandomRot90In3D(axes=1), 'axes must be two of'),
    (lambda: RandomAffine3D(scale=1.2), r'scale \(low, high\) with 0 < low <= high; got 15.0, 1.2'),
    (lambda: RandomAffine3D(rotate=(10, 20)), r'rotate must be one angle >= 0'),
])
def test_bad_arguments(transform, message):
    with pytest.raises(ValueError, match=message):
        transform()


def test_pack_gives_channel_first_tensors_and_checks_shapes():
    packed = PackVolumeInputs().transform(dict(sample(), spacing=np.array([2.0, 1.0, 1.0])))
    assert packed['inputs'].shape == (2, 10, 20, 16) and packed['data_samples']['gt_sem_seg'].shape == (10, 20, 16)
    assert list(packed['data_samples']['spacing']) == [2.0, 1.0, 1.0]
    bad = sample()
    bad['gt_seg_map'] = bad['gt_seg_map'][:5]
    with pytest.raises(ValueError, match=r'labels \(5, 20, 16\) and image \(10, 20, 16\) of case.nii.gz differ'):
        PackVolumeInputs().transform(bad)
    with pytest.raises(ValueError, match=r'\(C, D, H, W\) array for case.nii.gz'):
        RandomPatch3D(4).transform(dict(img=np.zeros((4, 4, 4)), img_path='case.nii.gz'))
