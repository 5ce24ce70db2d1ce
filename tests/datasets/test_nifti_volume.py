"""NiftiVolumeDataset: whole volumes per case, (D, H, W) layout, spacing, resampling, splits and bad input."""
from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest

from resbackbones.registry import DATASETS

AFFINE = np.diag([0.8, 0.9, 2.5, 1.0])
CLASSES = ('bg', 'shell', 'core')


def save(path, data, affine=AFFINE):
    nib.save(nib.Nifti1Image(np.asarray(data), affine), str(path))
    return str(path)


def phantom(shape=(12, 14, 10)):
    image, labels = np.zeros(shape, np.float32), np.zeros(shape, np.uint8)
    labels[2:10, 2:12, 1:9], labels[4:8, 4:10, 3:7] = 1, 2
    image[labels == 1], image[labels == 2] = 100, 200
    return image, labels


def build(tmp_path, case=None, **kwargs):
    image, labels = phantom()
    base = dict(images=[save(tmp_path / 't1.nii.gz', image), save(tmp_path / 't2.nii.gz', 300 - image)],
                seg=save(tmp_path / 'seg.nii.gz', labels))
    base.update(case or {})
    return DATASETS.build(dict(dict(type='NiftiVolumeDataset', cases=[base], classes=CLASSES,
                                    normalize=dict(mode='minmax'), pipeline=[dict(type='PackVolumeInputs')]),
                               **kwargs))


def test_one_sample_per_case_in_dhw_order_with_spacing(tmp_path):
    dataset = build(tmp_path)
    sample = dataset[0]
    assert len(dataset) == 1 and sample['inputs'].shape == (2, 10, 12, 14)  # axial depth: D = file axis 2
    assert np.array_equal(sample['data_samples']['gt_sem_seg'].numpy(), np.moveaxis(phantom()[1], 2, 0))
    assert np.allclose(sample['data_samples']['spacing'], [2.5, 0.8, 0.9])
    assert float(sample['inputs'][0].max()) == 1.0 and float(sample['inputs'][1].min()) == 0.0  # per channel


def test_probability_maps_give_labels(tmp_path):
    _, labels = phantom()
    maps = [save(tmp_path / f'p{k}.nii.gz', (labels == k).astype(np.float32) * 255) for k in (1, 2)]
    dataset = build(tmp_path, case=dict(seg=None, probs=maps), prob_scale=255)
    assert np.array_equal(dataset.volume(0)[1], np.moveaxis(labels, 2, 0))
    # ignore_index=-1: labels from maps were uint8 whatever it was, so a patch's padding came out 255 (not -1)
    patched = build(tmp_path, case=dict(seg=None, probs=maps), prob_scale=255, ignore_index=-1,
                    pipeline=[dict(type='RandomPatch3D', size=(40, 12, 12), seed=0), dict(type='PackVolumeInputs')])
    assert set(patched[0]['data_samples']['gt_sem_seg'].unique().tolist()) == {-1, 0, 1, 2}


def test_resampling_to_a_target_spacing_and_back(tmp_path):
    dataset = build(tmp_path, target_spacing=(0.8, 0.9, 1.25))
    image, labels, meta = dataset.volume(0)
    assert image.shape == (2, 20, 12, 14) and labels.shape == (20, 12, 14)
    assert np.allclose(meta['spacing'], [1.25, 0.8, 0.9])
    assert np.array_equal(dataset.to_file_grid(0, labels), phantom()[1])  # nearest back onto the file's grid
    # labels already in file order (X, Y, Z), or of any other shape, were permuted and stretched silently
    with pytest.raises(ValueError, match=r'labels of case 0 must be \(20, 12, 14\) \(D, H, W\).*got \(12, 14, 10\)'):
        dataset.to_file_grid(0, phantom()[1])


def test_labels_past_255_keep_their_values_on_the_file_grid(tmp_path):
    # written into a uint8 grid: class 300 became 44
    dataset = build(tmp_path)
    _, labels, _ = dataset.volume(0)
    many = labels.astype(np.uint16) + 299
    on_file = dataset.to_file_grid(0, many)
    assert on_file.dtype == np.uint16 and set(np.unique(on_file)) == {299, 300, 301}


def test_the_spacing_reported_is_that_of_the_grid_made_not_the_one_asked_for(tmp_path):
    """12 x 0.8 mm at 3 mm gives round(3.2) = 3 voxels of 3.2 mm (the extent is kept); HD95 in mm reads this."""
    dataset = build(tmp_path, target_spacing=(3.0, 0.9, 3.0))
    image, _, meta = dataset.volume(0)
    assert image.shape == (2, 8, 3, 14)  # D: 10 x 2.5 mm -> round(8.33) = 8 voxels of 3.125 mm
    assert np.allclose(meta['spacing'], [3.125, 3.2, 0.9])


@pytest.mark.parametrize('split, region', [('train', slice(0, 6)), ('val', slice(6, 12))])
def test_half_split_shares_no_voxel_and_maps_back(tmp_path, split, region):
    dataset = build(tmp_path, split=split, split_axis=0)
    _, labels, _ = dataset.volume(0)
    assert labels.shape == (10, 6, 14)
    on_file = dataset.to_file_grid(0, labels)
    assert np.array_equal(on_file[region], phantom()[1][region])
    outside = np.ones(12, bool)
    outside[region] = False
    assert not on_file[outside].any()


def test_case_split(tmp_path):
    image, labels = phantom()
    cases = [dict(images=save(tmp_path / f'{i}.nii.gz', image), seg=save(tmp_path / 'seg.nii.gz', labels))
             for i in range(3)]
    dataset = DATASETS.build(dict(type='NiftiVolumeDataset', cases=cases, classes=CLASSES, split='val',
                                  val_cases=[1]))
    assert len(dataset) == 1 and dataset.get_data_info(0)['case_idx'] == 1


def test_bad_inputs_name_the_file_and_axis(tmp_path):
    image, labels = phantom()
    with pytest.raises(ValueError, match=r'seg2.nii.gz has shape \(12, 14, 9\) but .*t1.nii.gz has \(12, 14, 10\) '
                                         r'\(they differ along axis 2\)'):
        build(tmp_path, case=dict(seg=save(tmp_path / 'seg2.nii.gz', labels[..., :9])))
    shifted = AFFINE.copy()
    shifted[1, 3] = 4.0
    with pytest.raises(ValueError, match='seg3.nii.gz and .*t1.nii.gz have different affines'):
        build(tmp_path, case=dict(seg=save(tmp_path / 'seg3.nii.gz', labels, shifted)))
    with pytest.raises(ValueError, match=r'4D array of shape \(12, 14, 10, 2\)'):
        build(tmp_path, case=dict(images=save(tmp_path / 'four.nii.gz', np.stack([image, image], -1))))
    bad = image.copy()
    bad[3, 4, 5] = np.nan
    with pytest.raises(ValueError, match=r'nan.nii.gz has 1 NaN/inf voxels in slice\(s\) \[5\] along axis 2'):
        build(tmp_path, case=dict(images=save(tmp_path / 'nan.nii.gz', bad)))
    with pytest.raises(ValueError, match="split='train' needs split_axis"):
        build(tmp_path, split='train')


def test_cached_volumes_are_never_written(tmp_path):
    dataset = DATASETS.build(dict(type='NiftiVolumeDataset', cases=[dict(images=save(tmp_path / 'a.nii.gz',
                                  phantom()[0]), seg=save(tmp_path / 's.nii.gz', phantom()[1]))], classes=CLASSES,
                                  pipeline=[dict(type='RandomPatch3D', size=(4, 4, 4), fg_prob=1.0, seed=0),
                                            dict(type='PackVolumeInputs')]))
    before = dataset.volume(0)[0].copy()
    out = dataset[0]
    out['inputs'] += 1
    assert np.array_equal(dataset.volume(0)[0], before)
    with pytest.raises(ValueError, match='read-only'):
        dataset.volume(0)[0][0, 0, 0, 0] = 5


def test_error_messages_name_this_class_and_the_right_cause(tmp_path):
    image, labels = phantom()
    with pytest.raises(ValueError, match=r'^NiftiVolumeDataset: label volume .*bad.nii.gz has values \[7\]'):
        build(tmp_path, case=dict(seg=save(tmp_path / 'bad.nii.gz', np.full(labels.shape, 7, np.uint8))))
    junk = tmp_path / 'junk.nii.gz'
    junk.write_bytes(b'garbage')
    with pytest.raises(ValueError, match='^NiftiVolumeDataset: cannot read NIfTI file .*junk.nii.gz'):
        build(tmp_path, case=dict(seg=str(junk)))
    with pytest.raises(ValueError, match=r'^NiftiVolumeDataset: .*4D array') as err:
        build(tmp_path, case=dict(seg=save(tmp_path / 'seg4d.nii.gz', np.stack([labels, labels], -1))))
    assert 'modality' not in str(err.value) and 'label' in str(err.value)
    flipped = AFFINE.copy()  # x flipped about the centre: direction of axis 0 and origin both differ
    flipped[0, 0], flipped[0, 3] = -0.8, 8.8
    with pytest.raises(ValueError, match=r'different affines \(axis 0 direction/spacing by up to 1.6, origin by up '
                                         r'to 8.8 mm\)'):
        build(tmp_path, case=dict(seg=save(tmp_path / 'flip.nii.gz', labels, flipped)))
    shifted = AFFINE.copy()
    shifted[2, 3] = 5.0
    with pytest.raises(ValueError, match=r'different affines \(origin by up to 5 mm\)'):
        build(tmp_path, case=dict(seg=save(tmp_path / 'shift.nii.gz', labels, shifted)))


def test_negative_ignore_index_is_kept_as_is(tmp_path):
    """ignore_index=-1 labels stay -1 (not wrapped to 255), so a loss with ignore_index=-1 skips them."""
    _, labels = phantom()
    marked = np.where(labels == 2, -1, labels.astype(np.int16))
    dataset = build(tmp_path, case=dict(seg=save(tmp_path / 'm1.nii.gz', marked)), ignore_index=-1)
    gt = dataset[0]['data_samples']['gt_sem_seg']
    assert set(gt.unique().tolist()) == {-1, 0, 1}
    np.testing.assert_array_equal(dataset.volume(0)[1], np.moveaxis(marked, 2, 0))


def test_label_volume_of_only_0_and_ignore_index_is_refused(tmp_path):
    _, labels = phantom()
    with pytest.raises(ValueError, match=r'^NiftiVolumeDataset: .*b255.nii.gz: its only non-zero value is 255'):
        build(tmp_path, case=dict(seg=save(tmp_path / 'b255.nii.gz', (labels > 0).astype(np.uint8) * 255)))
    void = build(tmp_path, case=dict(seg=str(tmp_path / 'b255.nii.gz')), allow_ignore_only=True)
    assert set(void[0]['data_samples']['gt_sem_seg'].unique().tolist()) == {0, 255}


@pytest.mark.parametrize('split, val_cases, message', [
    ('val', [3], r'val_cases \[3\] are not case indices: there are 3 cases, counted from 0 \(0..2\)'),
    ('train', [0, 3, -1], r'val_cases \[-1, 3\] are not case indices'),
    ('train', [0, 1, 2], r"hold out every case, so split='train' is empty"),
    ('val', '1', r"val_cases must be a list of case indices \(from 0\); got '1'"),
])
def test_val_cases_are_checked_against_the_cases(tmp_path, split, val_cases, message):
    """An index past the end (a 1-based count) was dropped silently, or left an empty split that failed inside
    mmengine ('need at least one array to concatenate')."""
    image, labels = phantom()
    cases = [dict(images=save(tmp_path / f'{i}.nii.gz', image), seg=save(tmp_path / 'seg.nii.gz', labels))
             for i in range(3)]
    with pytest.raises(ValueError, match=message):
        DATASETS.build(dict(type='NiftiVolumeDataset', cases=cases, classes=CLASSES, split=split, val_cases=val_cases))


def test_scale_normalisation_uses_the_files_integer_type(tmp_path):
    """mode='scale' without a scale divides by the file type's maximum, as NiftiSliceDataset does; the volume
    dataset's float32 copy (for resampling) made it fail for every file."""
    image, labels = phantom()
    dataset = build(tmp_path, case=dict(images=save(tmp_path / 'u16.nii.gz', (image * 100).astype(np.uint16))),
                    normalize=dict(mode='scale'))
    volume = dataset.volume(0)[0]
    assert volume.max() == pytest.approx(20000 / 65535)


def test_spacing_comes_from_the_affine_not_a_stale_pixdim(tmp_path):
    """A header whose pixdim says 1 mm beside an affine of 0.8 x 0.8 x 3 mm: the grid checks and saved predictions
    used the affine, the spacing (resampling, HD95) the pixdim."""
    image, labels = phantom()
    affine = np.diag([0.8, 0.8, 3.0, 1.0])
    paths = []
    for name, data in (('t1.nii.gz', image), ('stale.nii.gz', labels)):
        img = nib.Nifti1Image(data, affine)
        img.header.set_zooms((1.0, 1.0, 1.0))
        nib.save(img, str(tmp_path / name))
        paths.append(str(tmp_path / name))
    assert nib.load(paths[0]).header.get_zooms() == (1.0, 1.0, 1.0)
    dataset = DATASETS.build(dict(type='NiftiVolumeDataset', cases=[dict(images=paths[0], seg=paths[1])],
                                  classes=CLASSES, normalize=dict(mode='minmax')))
    assert np.allclose(dataset.volume(0)[2]['spacing'], [3.0, 0.8, 0.8])  # (D, H, W) with D the axial file axis


@pytest.mark.parametrize('kwargs, message', [
    (dict(target_spacing=(1.0, float('nan'), 1.0)), r'target_spacing must be a positive size or three'),
    (dict(target_spacing='1mm'), r'target_spacing must be a positive size or three'),
    (dict(normalize=dict(low=1, high=99)), r"normalize must be a dict with 'mode'"),
    (dict(normalize=dict(mode='zscore', nonzero=True)), r"normalize has unknown keys \['nonzero'\]"),
])
def test_settings_of_the_wrong_form_are_named(tmp_path, kwargs, message):
    """Each was a bare TypeError (len() of a float, NaN to int, a missing or unexpected keyword argument)."""
    with pytest.raises(ValueError, match=rf'^NiftiVolumeDataset: {message}'):
        build(tmp_path, **kwargs)


def test_one_target_spacing_is_isotropic(tmp_path):
    """MONAI's Spacingd takes one size for all axes; here it was a TypeError."""
    assert build(tmp_path, target_spacing=1.25).target_spacing == (1.25, 1.25, 1.25)
