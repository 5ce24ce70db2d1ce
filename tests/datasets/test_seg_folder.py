"""SegFolderDataset on image/mask folders written as PNG/TIFF in a temp dir."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from resbackbones.registry import DATASETS

PIPELINE = [dict(type='LoadImageAndMask'), dict(type='NormalizeIntensity', mode='minmax'), dict(type='PackSegInputs')]


def make_tree(root, names=('a', 'b'), size=(16, 20), mask_suffix='', img_ext='.png', mask_ext='.png', value=1):
    (root / 'images').mkdir(parents=True, exist_ok=True)
    (root / 'masks').mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(names):
        img = (np.arange(size[0] * size[1]).reshape(size) * 50 + i).astype(np.uint16)
        Image.fromarray(img).save(root / 'images' / f'{name}{img_ext}')
        mask = np.zeros(size, np.uint8)
        mask[2:6, 3:9] = value
        Image.fromarray(mask).save(root / 'masks' / f'{name}{mask_suffix}{mask_ext}')
    return root


def build(root, **kwargs):
    return DATASETS.build(dict(type='SegFolderDataset', data_root=str(root), classes=('bg', 'fg'), pipeline=PIPELINE,
                               **kwargs))


@pytest.mark.parametrize('img_ext, mask_ext, mask_suffix', [('.png', '.png', ''), ('.tif', '.png', '_mask'),
                                                            ('.tiff', '.tif', '')])
def test_pairs_images_with_masks(tmp_path, img_ext, mask_ext, mask_suffix):
    root = make_tree(tmp_path / 'd', img_ext=img_ext, mask_ext=mask_ext, mask_suffix=mask_suffix)
    dataset = build(root, mask_suffix=mask_suffix)
    assert len(dataset) == 2 and dataset.metainfo['classes'] == ('bg', 'fg')
    sample = dataset[1]
    assert sample['inputs'].shape == (1, 16, 20)
    assert sample['data_samples']['img_path'].endswith(f'b{img_ext}')
    assert int(sample['data_samples']['gt_sem_seg'].sum()) == 4 * 6


def test_missing_mask_names_the_image_and_expected_path(tmp_path):
    root = make_tree(tmp_path / 'd')
    (root / 'masks' / 'b.png').unlink()
    with pytest.raises(FileNotFoundError, match=r'image .*b.png has no mask; expected .*masks/b.<ext>'):
        build(root)


def test_two_masks_for_one_image_is_an_error(tmp_path):
    root = make_tree(tmp_path / 'd')
    Image.fromarray(np.zeros((16, 20), np.uint8)).save(root / 'masks' / 'a.tif')
    with pytest.raises(ValueError, match='several masks'):
        build(root)


def test_missing_folder_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='mask folder .*labels does not exist'):
        build(make_tree(tmp_path / 'd'), mask_dir='labels')


def test_out_of_range_mask_named_when_loaded(tmp_path):
    root = make_tree(tmp_path / 'd', value=9)
    with pytest.raises(ValueError, match=r'masks/a.png: mask values \[9\] are outside 0..1'):
        build(root)[0]
    assert int(build(root, binarize=True)[0]['data_samples']['gt_sem_seg'].max()) == 1


@pytest.mark.parametrize('classes', [('bg',), 'bg', ('bg', 'bg')])
def test_bad_classes(tmp_path, classes):
    with pytest.raises(ValueError, match='classes'):
        DATASETS.build(dict(type='SegFolderDataset', data_root=str(make_tree(tmp_path / 'd')), classes=classes))


def test_two_images_of_one_name_are_an_error(tmp_path):
    """a.png and a.tif were both paired with masks/a.png, without a word."""
    root = make_tree(tmp_path / 'd')
    Image.fromarray(np.zeros((16, 20), np.uint8)).save(root / 'images' / 'a.tif')
    with pytest.raises(ValueError, match=r"images \['a.png', 'a.tif'\] .* share a name before the extension"):
        build(root)


def test_images_and_suffixed_masks_in_one_folder(tmp_path):
    """foo.png beside foo_mask.png: the masks were taken for images too ('foo_mask.png has no mask')."""
    root = make_tree(tmp_path / 'd', mask_suffix='_mask')
    for mask in (root / 'masks').iterdir():
        mask.rename(root / 'images' / mask.name)
    dataset = build(root, mask_dir='images', mask_suffix='_mask')
    assert [dataset.get_data_info(i)['img_path'].rsplit('/', 1)[1] for i in range(len(dataset))] == ['a.png', 'b.png']
    assert int(dataset[0]['data_samples']['gt_sem_seg'].sum()) == 4 * 6
    same = build(root, img_dir='images', mask_dir='../d/images', mask_suffix='_mask')  # the same folder, spelt apart
    assert len(same) == 2


def test_one_folder_without_a_mask_suffix_is_refused(tmp_path):
    # every file was paired with itself: with binarize=True the images' own intensities became the labels
    root = make_tree(tmp_path / 'd', mask_suffix='_mask')
    for mask in (root / 'masks').iterdir():
        mask.rename(root / 'images' / mask.name)
    with pytest.raises(ValueError, match=r'img_dir and mask_dir are the same folder .*d/images, so every image would '
                                         r'be paired with itself; give mask_suffix'):
        build(root, mask_dir='images', binarize=True)


def test_a_rotated_photo_and_its_mask_line_up(tmp_path):
    """The mask is drawn on the photo as shown; the loader read the stored pixels, EXIF orientation ignored."""
    root = make_tree(tmp_path / 'd', names=('a',))
    shown = np.zeros((16, 20, 3), np.uint8)
    shown[2:6, 3:9] = 255  # bright where the mask is, as displayed
    exif = Image.Exif()
    exif[0x0112] = 3  # stored upside down, shown after a 180 degree turn
    Image.fromarray(shown[::-1, ::-1].copy()).save(root / 'images' / 'a.jpg', exif=exif, quality=100)
    (root / 'images' / 'a.png').unlink()
    sample = DATASETS.build(dict(type='SegFolderDataset', data_root=str(root), classes=('bg', 'fg'), pipeline=[
        dict(type='LoadImageAndMask', channels=1), dict(type='PackSegInputs')]))[0]
    image, mask = sample['inputs'][0].numpy(), sample['data_samples']['gt_sem_seg'].numpy()
    assert image[mask == 1].min() > 200 and image[mask == 0].max() < 50


def test_allow_ignore_only_reaches_the_loader(tmp_path):
    root = make_tree(tmp_path / 'd', value=255)  # masks of background and void only
    with pytest.raises(ValueError, match='allow_ignore_only=True'):
        build(root)[0]
    assert set(build(root, allow_ignore_only=True)[0]['data_samples']['gt_sem_seg'].unique().tolist()) == {0, 255}
