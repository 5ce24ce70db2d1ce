"""Segmentation transforms on files written in the exact formats: 8/16-bit PNG and TIFF, JPEG, palette PNG."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import cv2
from PIL import Image, ImageOps

from resbackbones.registry import TRANSFORMS
from resbackbones.transforms.seg_loading import orient
from resbackbones.transforms import (CorruptImageError, LoadImageAndMask, NormalizeIntensity, PackSegInputs,
                                     RandomPatch, SegAlbu, normalize_intensity)


def write(path, array, fmt=None):
    Image.fromarray(array).save(path, format=fmt)
    return str(path)


def ramp(h=12, w=16, dtype=np.uint16, top=4000):
    return (np.arange(h * w).reshape(h, w) * top // (h * w)).astype(dtype)


@pytest.mark.parametrize('suffix, dtype, top', [('.png', np.uint16, 4000), ('.tif', np.uint16, 60000),
                                                ('.png', np.uint8, 250), ('.tif', np.uint8, 250)])
def test_images_keep_their_bit_depth(tmp_path, suffix, dtype, top):
    img = ramp(dtype=dtype, top=top)
    mask = (img > img.mean()).astype(np.uint8)
    results = LoadImageAndMask()(dict(img_path=write(tmp_path / f'i{suffix}', img),
                                      seg_map_path=write(tmp_path / f'm{suffix}', mask), num_classes=2))
    assert results['img'].dtype == dtype and results['img'].shape == (12, 16, 1)
    np.testing.assert_array_equal(results['img'][..., 0], img)
    np.testing.assert_array_equal(results['gt_seg_map'], mask)
    assert results['gt_seg_map'].dtype == np.int64


@pytest.mark.parametrize('suffix', ['.png', '.tif'])
@pytest.mark.parametrize('channels', [3, 4])
def test_16_bit_colour_images_keep_their_low_byte(tmp_path, suffix, channels):
    """Pillow opens 48/64-bit colour PNG and TIFF as 8-bit RGB(A), keeping the high byte of each value only."""
    rgb = np.random.default_rng(0).integers(0, 65536, (6, 5, channels)).astype(np.uint16)
    cv2.imwrite(str(tmp_path / f'i{suffix}'), rgb[..., [2, 1, 0, 3][:channels]])  # OpenCV writes BGR(A)
    img = LoadImageAndMask()(dict(img_path=str(tmp_path / f'i{suffix}')))['img']
    assert img.dtype == np.uint16
    np.testing.assert_array_equal(img, rgb[..., :3])  # alpha dropped, as for 8-bit RGBA


@pytest.mark.parametrize('orientation', range(1, 9))
def test_orientation_steps_are_pillows(orientation):
    """The 16-bit colour path rotates by EXIF orientation in numpy; it must match Pillow's exif_transpose."""
    pixels = np.random.default_rng(orientation).integers(0, 255, (3, 5, 3)).astype(np.uint8)
    img = Image.fromarray(pixels)
    exif = img.getexif()
    exif[0x0112] = orientation
    img.info['exif'] = exif.tobytes()
    np.testing.assert_array_equal(orient(pixels, orientation), np.asarray(ImageOps.exif_transpose(img)))


def test_a_1_bit_mask_holds_labels_0_and_1(tmp_path):
    mask = np.zeros((4, 6), bool)
    mask[1:3, 2:5] = True
    Image.fromarray(mask).convert('1').save(tmp_path / 'm.png')  # read as 0/255 and refused before
    results = LoadImageAndMask()(dict(img_path=write(tmp_path / 'i.png', ramp(4, 6, np.uint8, 200)),
                                      seg_map_path=str(tmp_path / 'm.png'), num_classes=2))
    np.testing.assert_array_equal(results['gt_seg_map'], mask.astype(np.int64))


def test_rgb_to_grey_rounds_as_pillow_does(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 256, (300, 300, 3)).astype(np.uint8)
    grey = LoadImageAndMask(channels=1)(dict(img_path=write(tmp_path / 'i.png', rgb)))['img'][..., 0]
    # equal (float weights left 46 of these 90000 pixels one level off; flooring, half of them)
    np.testing.assert_array_equal(grey, np.asarray(Image.fromarray(rgb).convert('L')))


def test_jpeg_rgb_image_to_grey_with_palette_mask(tmp_path):
    rgb = np.zeros((8, 8, 3), np.uint8)
    rgb[:, 4:] = 200
    mask = Image.fromarray(np.where(rgb[..., 0] > 0, 2, 0).astype(np.uint8), mode='P')
    mask.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0] + [0] * 759)
    mask.save(tmp_path / 'm.png')
    results = LoadImageAndMask(channels=1)(dict(img_path=write(tmp_path / 'i.jpg', rgb), num_classes=3,
                                                seg_map_path=str(tmp_path / 'm.png')))
    assert results['img'].shape == (8, 8, 1)
    assert set(np.unique(results['gt_seg_map'])) == {0, 2}  # palette indices, not colours


def test_a_palette_image_gives_its_colours_a_palette_mask_its_indices(tmp_path):
    """An input image shows its palette's colours (it loaded as indices 0, 1, 2 before); a mask's indices are its
    labels (VOC-style), both from the same kind of file."""
    indices = np.repeat(np.arange(3, dtype=np.uint8), 4)[None].repeat(4, axis=0)  # 4x12: 0 0 0 0 1 1 1 1 2 ...
    palette_file = Image.fromarray(indices, mode='P')
    palette_file.putpalette([255, 255, 255, 215, 215, 215, 175, 175, 175] + [0] * 759)
    palette_file.save(tmp_path / 'p.png')
    results = LoadImageAndMask()(dict(img_path=str(tmp_path / 'p.png'), seg_map_path=str(tmp_path / 'p.png'),
                                      num_classes=3))
    np.testing.assert_array_equal(results['img'][..., 0], np.array([255, 215, 175])[indices])
    np.testing.assert_array_equal(results['gt_seg_map'], indices)


def test_binarize_turns_instances_into_foreground(tmp_path):
    mask = np.zeros((6, 6), np.uint16)
    mask[1:3, 1:3], mask[4:, 4:] = 7, 300
    results = LoadImageAndMask()(dict(img_path=write(tmp_path / 'i.png', ramp(6, 6)), num_classes=2, binarize=True,
                                      seg_map_path=write(tmp_path / 'm.tif', mask)))
    np.testing.assert_array_equal(results['gt_seg_map'], (mask > 0).astype(np.int64))


def test_all_background_mask_is_valid(tmp_path):
    results = LoadImageAndMask()(dict(img_path=write(tmp_path / 'i.png', ramp()), num_classes=2,
                                      seg_map_path=write(tmp_path / 'm.png', np.zeros((12, 16), np.uint8))))
    assert results['gt_seg_map'].max() == 0


def test_mask_values_beyond_classes_name_the_file(tmp_path):
    mask = np.zeros((12, 16), np.uint8)
    mask[0, 0] = 5
    sample = dict(img_path=write(tmp_path / 'i.png', ramp()), seg_map_path=write(tmp_path / 'bad_mask.png', mask),
                  num_classes=2)
    with pytest.raises(ValueError, match=r'bad_mask.png: mask values \[5\] are outside 0..1'):
        LoadImageAndMask()(sample)


def test_size_mismatch_names_both_files(tmp_path):
    sample = dict(img_path=write(tmp_path / 'img.png', ramp()), num_classes=2,
                  seg_map_path=write(tmp_path / 'msk.png', np.zeros((12, 15), np.uint8)))
    with pytest.raises(ValueError, match=r'msk.png is 12x15 but image .*img.png is 12x16'):
        LoadImageAndMask()(sample)


def test_missing_and_unreadable_files_are_named(tmp_path):
    (tmp_path / 'broken.png').write_bytes(b'not a png')
    with pytest.raises(FileNotFoundError, match='nowhere.png'):
        LoadImageAndMask()(dict(img_path=str(tmp_path / 'nowhere.png')))
    with pytest.raises(CorruptImageError, match='broken.png'):
        LoadImageAndMask()(dict(img_path=str(tmp_path / 'broken.png')))


def test_nan_in_a_float_tiff_is_named(tmp_path):
    img = np.ones((4, 4), np.float32)
    img[1, 2] = np.nan
    with pytest.raises(ValueError, match='float.tif: 1 NaN/inf pixels'):
        LoadImageAndMask()(dict(img_path=write(tmp_path / 'float.tif', img)))


def test_rgb_colour_mask_is_rejected(tmp_path):
    colour = np.zeros((12, 16, 3), np.uint8)
    colour[..., 0] = 255
    sample = dict(img_path=write(tmp_path / 'i.png', ramp()), seg_map_path=write(tmp_path / 'rgb.png', colour))
    with pytest.raises(ValueError, match='rgb.png: a mask must be a single-channel label image'):
        LoadImageAndMask()(sample)


@pytest.mark.parametrize('kwargs, low_value, high_value', [
    (dict(mode='minmax'), 0.0, 1.0),
    (dict(mode='scale'), 0.0, 4000 * 191 // 192 / 65535),
    (dict(mode='window', level=1000, width=1000), 0.0, 1.0),
])
def test_normalize_modes(kwargs, low_value, high_value):
    out = normalize_intensity(ramp(), **kwargs)
    assert out.dtype == np.float32
    assert out.min() == pytest.approx(low_value) and out.max() == pytest.approx(high_value, rel=1e-4)


def test_percentile_is_robust_to_a_hot_pixel():
    img = ramp().astype(np.float32)
    img[0, 0] = 1e6
    out = normalize_intensity(img, 'percentile', low=1, high=99)
    assert np.percentile(out, 50) == pytest.approx(0.5, abs=0.05)  # the hot pixel does not squash the rest
    assert np.allclose(normalize_intensity(np.full((4, 4), 3.0), 'zscore'), 0)


def test_a_few_bright_spots_are_not_normalised_away():
    """Three bright pixels in a 64x64 dark patch: both percentiles were 0 and the whole patch, spots included,
    came out zero (MONAI and CSBDeep keep them)."""
    img = np.zeros((64, 64, 1), np.uint16)
    img[10, 10], img[20, 20], img[30, 30] = 5000, 4000, 3000
    out = normalize_intensity(img)
    assert out[10, 10, 0] == 1.0 and out[30, 30, 0] == pytest.approx(0.6) and out[0, 0, 0] == 0
    assert not normalize_intensity(np.full((8, 8), 7, np.uint16)).any()  # a constant image stays zero


@pytest.mark.parametrize('kwargs, message', [(dict(mode='gamma'), 'mode must be'),
                                             (dict(mode='window', level=40), 'positive width'),
                                             (dict(mode='percentile', low=90, high=10), 'low < high')])
def test_normalize_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        NormalizeIntensity(**kwargs)


def coords(h, w):
    """Image whose value encodes the pixel position, and a mask derived from it, to check alignment."""
    img = np.arange(h * w, dtype=np.float32).reshape(h, w, 1)
    return img, (img[..., 0].astype(np.int64) % 3)


@pytest.mark.parametrize('size', [8, (6, 10)])
def test_random_patch_keeps_image_and_mask_aligned(size):
    img, mask = coords(20, 24)
    out = RandomPatch(size, seed=1)(dict(img=img, gt_seg_map=mask))
    expected = (size, size) if isinstance(size, int) else size
    assert out['img'].shape[:2] == expected == out['gt_seg_map'].shape
    np.testing.assert_array_equal(out['img'][..., 0].astype(np.int64) % 3, out['gt_seg_map'])


def test_random_patch_pads_small_images_with_ignore():
    img, mask = coords(4, 5)
    out = RandomPatch(8, seed=0)(dict(img=img, gt_seg_map=mask, ignore_index=255))
    assert out['img'].shape == (8, 8, 1)
    assert (out['gt_seg_map'][4:] == 255).all() and (out['gt_seg_map'][:, 5:] == 255).all()


def test_foreground_sampling_finds_a_small_object():
    img, mask = np.zeros((64, 64, 1), np.float32), np.zeros((64, 64), np.int64)
    mask[60, 3] = 1
    patch = RandomPatch(8, fg_prob=1.0, seed=0)
    assert all(patch(dict(img=img, gt_seg_map=mask))['gt_seg_map'].any() for _ in range(5))


def test_seg_albu_moves_mask_with_image():
    img, mask = coords(16, 16)
    aug = TRANSFORMS.build(dict(type='SegAlbu', transforms=[dict(type='HorizontalFlip', p=1.0),
                                                            dict(type='RandomRotate90', p=1.0)]))
    out = aug(dict(img=img.copy(), gt_seg_map=mask.copy()))
    assert not np.array_equal(out['img'], img)
    np.testing.assert_array_equal(out['img'][..., 0].astype(np.int64) % 3, out['gt_seg_map'])
    assert out['gt_seg_map'].dtype == np.int64


def test_seg_albu_rejects_unknown_transforms():
    with pytest.raises(ValueError, match='unknown albumentations transform'):
        SegAlbu([dict(type='HorizontalFlipp')])


def test_pack_seg_inputs():
    img, mask = coords(4, 6)
    packed = PackSegInputs()(dict(img=img, gt_seg_map=mask, img_path='a.png', slice_idx=3))
    assert packed['inputs'].shape == (1, 4, 6) and packed['inputs'].dtype == torch.float32
    assert packed['data_samples']['gt_sem_seg'].dtype == torch.int64
    assert packed['data_samples']['slice_idx'] == 3 and packed['data_samples']['img_path'] == 'a.png'


def test_binarize_counts_255_as_foreground(tmp_path):
    """0/255 masks and instance #255 are foreground with binarize=True, although 255 is the default ignore_index."""
    mask = np.zeros((6, 6), np.uint16)
    mask[1:3, 1:3], mask[4:, 4:] = 255, 256
    for name, m in (('bin.png', (mask > 0).astype(np.uint8) * 255), ('inst.tif', mask)):
        results = LoadImageAndMask()(dict(img_path=write(tmp_path / 'i.png', ramp(6, 6)), num_classes=2,
                                          binarize=True, seg_map_path=write(tmp_path / name, m)))
        np.testing.assert_array_equal(results['gt_seg_map'], (mask > 0).astype(np.int64))


def test_mask_of_only_0_and_ignore_index_is_refused(tmp_path):
    """Without binarize a 0/255 mask would be all-ignored: an error naming the file and the fix instead."""
    mask = np.zeros((6, 6), np.uint8)
    mask[1:3, 1:3] = 255
    sample = dict(img_path=write(tmp_path / 'i.png', ramp(6, 6)), num_classes=2,
                  seg_map_path=write(tmp_path / 'm255.png', mask))
    with pytest.raises(ValueError, match=r'm255.png: its only non-zero value is 255, which is ignore_index.*'
                                         r'binarize=True'):
        LoadImageAndMask()(dict(sample))
    # background and void alone, a real mask of a multi-class set: allowed by the dataset's opt-out (no way before)
    void = LoadImageAndMask()(dict(sample, allow_ignore_only=True))['gt_seg_map']
    assert set(np.unique(void).tolist()) == {0, 255}
    mask[0, 0] = 1  # ignore next to a real class is what ignore_index is for
    results = LoadImageAndMask()(dict(sample, seg_map_path=write(tmp_path / 'ok.png', mask)))
    assert set(np.unique(results['gt_seg_map']).tolist()) == {0, 1, 255}


@pytest.mark.parametrize('transform', [dict(type='Rotate', limit=(45, 45), p=1.0),
                                       dict(type='Affine', scale=0.5, p=1.0),
                                       dict(type='PadIfNeeded', min_height=40, min_width=40)])
@pytest.mark.parametrize('ignore_index', [255, -1])
def test_seg_albu_labels_pixels_from_outside_as_ignore(transform, ignore_index):
    """As in RandomAffine3D, pixels a warp brings in from outside the image are not background but ignored."""
    aug = SegAlbu([dict(type='OneOf', transforms=[transform], p=1.0)])
    out = aug(dict(img=np.ones((32, 32, 1), np.float32), gt_seg_map=np.ones((32, 32), np.int64),
                   ignore_index=ignore_index))
    outside = out['img'][..., 0] == 0
    assert outside.sum() > 50
    assert set(np.unique(out['gt_seg_map'][outside]).tolist()) == {ignore_index}
    assert set(np.unique(out['gt_seg_map'][out['img'][..., 0] == 1]).tolist()) == {1}  # (edges blend the image)


def test_seg_albu_keeps_an_explicit_fill_mask():
    aug = SegAlbu([dict(type='Rotate', limit=(45, 45), p=1.0, fill_mask=0)])
    out = aug(dict(img=np.ones((32, 32, 1), np.float32), gt_seg_map=np.ones((32, 32), np.int64)))
    assert set(np.unique(out['gt_seg_map'][out['img'][..., 0] == 0]).tolist()) == {0}


def test_seg_albu_mask_moving_morphology_runs():
    """Every mask went in as int32, which OpenCV's morphology refuses: Morphological failed inside cv2."""
    out = SegAlbu([dict(type='Morphological', p=1.0)])(dict(img=np.zeros((32, 32, 1), np.uint8),
                                                            gt_seg_map=np.ones((32, 32), np.int64)))
    assert out['gt_seg_map'].dtype == np.int64 and set(np.unique(out['gt_seg_map']).tolist()) <= {1, 255}


def test_seg_albu_refuses_nan_pixels_and_warps_without_a_mask_fill():
    """RandomGamma on percentile-normalised pixels (some below 0) made NaN inputs that trained silently;
    GridElasticDeform takes no fill_mask, so pixels from outside the image trained as background."""
    img = np.random.RandomState(0).uniform(-0.1, 1.0, (32, 32, 1)).astype(np.float32)
    with pytest.raises(ValueError, match=r"x.png: the transforms \['RandomGamma'\] made NaN/inf pixels"):
        SegAlbu([dict(type='RandomGamma', p=1.0)])(dict(img=img, gt_seg_map=np.ones((32, 32), np.int64),
                                                         img_path='x.png'))
    with pytest.raises(ValueError, match=r"\['GridElasticDeform'\] take no fill_mask"):
        SegAlbu([dict(type='OneOf', transforms=[dict(type='GridElasticDeform', num_grid_xy=(4, 4), magnitude=10)])])


@pytest.mark.parametrize('batch', [1, 2, 3])
def test_tuple_meta_reaches_its_own_sample_through_collation(batch):
    """pseudo_collate transposes tuples: with 2 samples each got a mix of both spacings / ori_shapes, with any other
    batch size the key was dropped (HD95 then in pixels, not mm)."""
    from mmengine.dataset import pseudo_collate

    from resbackbones.models.seg_samples import split_samples
    packer = PackSegInputs(meta_keys=('img_path', 'spacing', 'ori_shape'))
    packed = [packer(dict(img=np.zeros((8, 8, 1), np.float32), img_path=f'{i}.png', spacing=(0.5 + i, 0.7 + i),
                          ori_shape=(30 + i, 40 + i))) for i in range(batch)]
    samples = split_samples(pseudo_collate(packed)['data_samples'], batch)
    for i, sample in enumerate(samples):
        assert sample['img_path'] == f'{i}.png' and list(sample['spacing']) == [0.5 + i, 0.7 + i]
        assert list(sample['ori_shape']) == [30 + i, 40 + i]


def test_a_signed_16_bit_tiff_keeps_its_dtype(tmp_path):
    """Pillow opens I;16S TIFFs as 32-bit 'I': read as int32, mode='scale' divided by 2**31 - 1 (values ~1e-5)."""
    from resbackbones.transforms.seg_loading import read_array
    values = (np.arange(1024).reshape(32, 32) * 30 - 10000).astype(np.int16)
    cv2.imwrite(str(tmp_path / 's16.tif'), values)
    array = read_array(str(tmp_path / 's16.tif'))
    assert array.dtype == np.int16
    np.testing.assert_array_equal(array, values)
    assert normalize_intensity(array, 'scale').max() == pytest.approx(values.max() / 32767)


def test_images_of_mixed_channel_counts_are_refused_naming_both_files(tmp_path):
    grey = write(tmp_path / 'grey.png', ramp(4, 6, np.uint8, 200))
    rgb = write(tmp_path / 'rgb.png', np.zeros((4, 6, 3), np.uint8))
    keep = LoadImageAndMask()
    assert keep(dict(img_path=grey))['img'].shape == (4, 6, 1)
    assert keep(dict(img_path=grey))['img'].shape == (4, 6, 1)  # the same count again is fine
    with pytest.raises(ValueError, match=r'rgb\.png: 3 channel\(s\), but .*grey\.png had 1'):
        keep(dict(img_path=rgb))  # a batch of both failed in torch.stack, naming no file
    convert = LoadImageAndMask(channels=3)
    assert [convert(dict(img_path=path))['img'].shape for path in (grey, rgb)] == [(4, 6, 3)] * 2
