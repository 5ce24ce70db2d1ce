"""NiftiSliceDataset on NIfTI files written with nibabel in a temp dir."""
from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest

from resbackbones.registry import DATASETS

AFFINE = np.diag([0.8, 0.9, 2.5, 1.0])


def save(path, data, dtype=None):
    img = nib.Nifti1Image(np.asarray(data), AFFINE)
    if dtype is not None:
        img.set_data_dtype(dtype)
    nib.save(img, str(path))
    return str(path)


def phantom(shape=(12, 14, 10)):
    """A bright cube (class 2) inside a dimmer shell (class 1) on background."""
    image, labels = np.zeros(shape, np.float32), np.zeros(shape, np.uint8)
    labels[2:10, 2:12, 1:9], labels[4:8, 4:10, 3:7] = 1, 2
    image[labels == 1], image[labels == 2] = 100, 200
    return image, labels


def build(tmp_path, split='all', axis='axial', **kwargs):
    image, labels = phantom()
    case = dict(images=save(tmp_path / 't1.nii.gz', image), seg=save(tmp_path / 'seg.nii.gz', labels))
    case.update(kwargs.pop('case', {}))
    return DATASETS.build(dict(type='NiftiSliceDataset', cases=[case], classes=('bg', 'shell', 'core'), axis=axis,
                               split=split, normalize=dict(mode='minmax'), pipeline=[dict(type='PackSegInputs')],
                               **kwargs))


@pytest.mark.parametrize('axis, count, hw', [('axial', 10, (12, 14)), (0, 12, (14, 10)), ('coronal', 14, (12, 10))])
def test_slices_along_each_axis(tmp_path, axis, count, hw):
    dataset = build(tmp_path, axis=axis)
    assert len(dataset) == count
    sample = dataset[count // 2]
    assert sample['inputs'].shape == (1, *hw)
    labels = sample['data_samples']['gt_sem_seg']
    assert set(labels.unique().tolist()) == {0, 1, 2}
    np.testing.assert_allclose(sample['inputs'][0][labels == 2].numpy(), 1.0)  # minmax: brightest -> 1
    image, volume_labels, _ = dataset.volume(0)  # back on the files' voxel grid
    np.testing.assert_array_equal(volume_labels, phantom()[1])
    np.testing.assert_allclose(image[0], phantom()[0] / 200)


def test_holdout_every_fifth_slice(tmp_path):
    train, val = build(tmp_path, split='train'), build(tmp_path, split='val')
    val_slices = [val.get_data_info(i)['slice_idx'] for i in range(len(val))]
    assert val_slices == [0, 5]
    assert len(train) == 8 and all(train.get_data_info(i)['slice_idx'] % 5 for i in range(len(train)))


def test_labels_from_probability_maps(tmp_path):
    image, labels = phantom()
    p_shell = np.where(labels == 1, 200, 30).astype(np.uint8)  # 0-255 maps
    p_core = np.where(labels == 2, 180, 0).astype(np.uint8)
    p_shell[0, 0, 0] = 127  # below 0.5 everywhere else -> background
    dataset = build(tmp_path, case=dict(seg=None, probs=[save(tmp_path / 'p1.nii.gz', p_shell),
                                                       save(tmp_path / 'p2.nii.gz', p_core)]), prob_scale=255)
    _, derived, _ = dataset.volume(0)
    np.testing.assert_array_equal(derived, labels)


def test_probability_maps_out_of_range_need_a_scale(tmp_path):
    _, labels = phantom()
    probs = [save(tmp_path / f'p{k}.nii.gz', (labels == k).astype(np.uint8) * 255) for k in (1, 2)]
    with pytest.raises(ValueError, match=r'p1.nii.gz has values 0..255 .* prob_scale=255'):
        build(tmp_path, case=dict(seg=None, probs=probs))


def test_multi_modal_cases_give_channels(tmp_path):
    image, _ = phantom()
    second = save(tmp_path / 't2.nii.gz', image[::-1].copy())
    dataset = build(tmp_path, case=dict(images=[str(tmp_path / 't1.nii.gz'), second]))
    assert dataset[3]['inputs'].shape == (2, 12, 14)


def test_nan_in_volume_names_file_and_slice(tmp_path):
    image, labels = phantom()
    image[3, 4, 7] = np.nan
    case = dict(images=save(tmp_path / 'nan.nii.gz', image))
    with pytest.raises(ValueError, match=r'nan.nii.gz has 1 NaN/inf voxels in slice\(s\) \[7\] along axis 2'):
        build(tmp_path, case=case)


def test_label_beyond_classes_names_file_and_slice(tmp_path):
    _, labels = phantom()
    labels[1, 1, 4] = 9
    with pytest.raises(ValueError, match=r'bad.nii.gz has values \[9\] outside 0..2 in slice\(s\) \[4\]'):
        build(tmp_path, case=dict(seg=save(tmp_path / 'bad.nii.gz', labels)))


def test_shape_mismatch_and_unreadable_files(tmp_path):
    with pytest.raises(ValueError, match=r'small.nii.gz has shape \(4, 4, 4\)'):
        build(tmp_path, case=dict(seg=save(tmp_path / 'small.nii.gz', np.zeros((4, 4, 4), np.uint8))))
    (tmp_path / 'junk.nii.gz').write_bytes(b'garbage')
    with pytest.raises(ValueError, match='cannot read NIfTI file .*junk.nii.gz'):
        build(tmp_path, case=dict(images=str(tmp_path / 'junk.nii.gz')))
    with pytest.raises(FileNotFoundError, match='absent.nii.gz'):
        build(tmp_path, case=dict(images=str(tmp_path / 'absent.nii.gz')))


def test_all_background_volume_is_valid(tmp_path):
    dataset = build(tmp_path, case=dict(seg=save(tmp_path / 'empty.nii.gz', np.zeros((12, 14, 10), np.uint8))))
    assert int(dataset[0]['data_samples']['gt_sem_seg'].max()) == 0


def test_spacing_is_in_plane(tmp_path):
    spacing = build(tmp_path, axis='axial')[0]['data_samples']['spacing']
    np.testing.assert_allclose(spacing, [0.8, 0.9])


@pytest.mark.parametrize('split, width', [('train', 6), ('val', 6)])
def test_half_split_cuts_every_slice_and_shares_no_voxel(tmp_path, split, width):
    dataset = build(tmp_path, split=split, split_axis=0)
    assert len(dataset) == 10  # every axial slice, each cut to one half along x
    assert dataset[0]['inputs'].shape == (1, width, 14)
    image, labels, _ = dataset.volume(0)
    full_labels = phantom()[1]
    expected = full_labels[:6] if split == 'train' else full_labels[6:]
    assert np.array_equal(labels, expected)


def test_split_axis_must_differ_from_the_slicing_axis(tmp_path):
    with pytest.raises(ValueError, match='split_axis must be None or a file axis other than the slicing axis 2'):
        build(tmp_path, split='train', split_axis=2)


def test_labels_and_channels_on_another_grid_are_refused(tmp_path):
    """Same shape is not enough: a label file flipped in x, or a channel 50 mm away, is on another grid."""
    image, labels = phantom()
    flipped = AFFINE.copy()
    flipped[0, 0], flipped[0, 3] = -0.8, 8.8
    nib.save(nib.Nifti1Image(labels, flipped), str(tmp_path / 'flip.nii.gz'))
    with pytest.raises(ValueError, match='NiftiSliceDataset: .*flip.nii.gz and .*t1.nii.gz have different affines'):
        build(tmp_path, case=dict(seg=str(tmp_path / 'flip.nii.gz')))
    shifted = AFFINE.copy()
    shifted[0, 3] = 50.0
    nib.save(nib.Nifti1Image(image, shifted), str(tmp_path / 't2.nii.gz'))
    with pytest.raises(ValueError, match=r't2.nii.gz and .*t1.nii.gz have different affines .*origin'):
        build(tmp_path, case=dict(images=[str(tmp_path / 't1.nii.gz'), str(tmp_path / 't2.nii.gz')]))
    # saved without an affine: nibabel reads it flipped in x; 'resample' alone was the wrong advice
    nib.save(nib.Nifti1Image(labels, None), str(tmp_path / 'bare.nii.gz'))
    with pytest.raises(ValueError, match=r'bare.nii.gz .*it has no orientation \(qform and sform codes 0\): copy '
                                         r'the header of the image into it'):
        build(tmp_path, case=dict(seg=str(tmp_path / 'bare.nii.gz')))


def test_label_volume_of_only_0_and_ignore_index_is_refused(tmp_path):
    """A 0/255 binary label volume would otherwise be all-ignored: no foreground to learn from."""
    _, labels = phantom()
    binary = save(tmp_path / 'bin255.nii.gz', np.where(labels > 0, 255, 0).astype(np.uint8))
    with pytest.raises(ValueError, match=r'bin255.nii.gz: its only non-zero value is 255, which is ignore_index'):
        build(tmp_path, case=dict(seg=binary))
    void = build(tmp_path, case=dict(seg=binary), allow_ignore_only=True)  # a case that really holds no foreground
    assert set(np.unique(void.volume(0)[1]).tolist()) == {0, 255}
    with_class = np.where(labels == 2, 255, labels).astype(np.uint8)  # ignore next to a real class: fine
    dataset = build(tmp_path, case=dict(seg=save(tmp_path / 'ok.nii.gz', with_class)))
    assert set(np.unique(dataset.volume(0)[1]).tolist()) == {0, 1, 255}


@pytest.mark.parametrize('dataset', ['NiftiSliceDataset', 'NiftiVolumeDataset'])
@pytest.mark.parametrize('images', [[], '', ['t1.nii.gz', None]])
def test_a_case_without_image_paths_is_named(dataset, images):
    """images=[] failed while loading with a bare IndexError (a traceback from the tools)."""
    cases = [dict(images='t1.nii.gz'), dict(images=images)]
    with pytest.raises(ValueError, match=rf"{dataset}: case 1: 'images' must be a path or a non-empty list"):
        DATASETS.build(dict(type=dataset, cases=cases, classes=('bg', 'fg'), lazy_init=True))


@pytest.mark.parametrize('dataset, key', [('NiftiSliceDataset', 'axis'), ('NiftiVolumeDataset', 'depth_axis')])
def test_a_named_axis_must_run_that_way_in_the_file(tmp_path, dataset, key):
    """'axial' took file axis 2 whatever the affine: a sagittal acquisition stored P-I-R was cut left to right."""
    pir = np.array([[0, 0, 1.0, 0], [-1.0, 0, 0, 0], [0, -1.0, 0, 0], [0, 0, 0, 1]])  # file axes run P, I, R
    nib.save(nib.Nifti1Image(np.random.default_rng(0).random((6, 7, 5)).astype(np.float32), pir),
             str(tmp_path / 'pir.nii.gz'))
    build = dict(type=dataset, cases=[dict(images=str(tmp_path / 'pir.nii.gz'))], classes=('bg', 'fg'))
    with pytest.raises(ValueError, match=r"pir.nii.gz stores its axes as PIR: 'axial' means file axis 2 .* runs R; "
                                         r'its axial axis is file axis 1'):
        DATASETS.build(dict(build, **{key: 'axial'}))
    assert len(DATASETS.build(dict(build, **{key: 1}))) > 0  # a number is taken as it is
