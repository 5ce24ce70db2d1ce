"""Slice-by-slice volume prediction and NIfTI saving on the original grid."""
from __future__ import annotations

import os

import nibabel as nib
import numpy as np
import pytest
import torch

from resbackbones.apis import predict_volume, predict_volume_3d, save_nifti
from resbackbones.registry import MODELS


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    return MODELS.build(dict(type='UNet', num_classes=3, decoder=dict(decoder_channels=(16, 8, 8, 8, 8)),
                             backbone=dict(type='ResNet', depth=18, base_channels=8, in_channels=2,
                                           out_indices=('stem', 0, 1, 2, 3)))).eval()


@pytest.mark.parametrize('axis', [0, 1, 2])
def test_slices_are_stacked_back_in_place(model, axis):
    volume = np.random.default_rng(axis).standard_normal((2, 20, 24, 12)).astype(np.float32)
    labels = predict_volume(model, volume, axis, batch_size=5)
    assert labels.shape == (20, 24, 12) and labels.dtype == np.uint8
    for k in (0, volume.shape[1 + axis] - 1, 3):
        slice_ = torch.from_numpy(np.ascontiguousarray(np.take(volume, k, axis=1 + axis)))[None]
        with torch.no_grad():
            expected = model.labels(model.probabilities(model.logits(slice_)))[0].numpy()
        np.testing.assert_array_equal(np.take(labels, k, axis=axis), expected)


def test_bad_volume_shape(model):
    with pytest.raises(ValueError, match=r'must be \(C, X, Y, Z\)'):
        predict_volume(model, np.zeros((4, 4, 4), np.float32), 2)


def test_a_tensor_volume_gives_the_arrays_labels_and_a_float_axis_is_named(model):
    volume = np.random.default_rng(5).standard_normal((2, 6, 24, 12)).astype(np.float32)
    np.testing.assert_array_equal(predict_volume(model, torch.from_numpy(volume), 0, 4),
                                  predict_volume(model, volume, 0, 4))  # was a TypeError in transpose()
    with pytest.raises(ValueError, match=r'axis must be 0, 1 or 2 and batch_size an integer >= 1; got 0\.0'):
        predict_volume(model, volume, 0.0)


def reference(tmp_path):
    affine = np.array([[-0.9, 0, 0, 90], [0, 1.1, 0, -120], [0, 0, 2.0, -60], [0, 0, 0, 1]])
    img = nib.Nifti1Image(np.random.default_rng(0).random((6, 7, 5)).astype(np.float32), affine)
    img.header['descrip'] = b'T1 test volume'
    nib.save(img, str(tmp_path / 'ref.nii.gz'))
    return nib.load(str(tmp_path / 'ref.nii.gz'))


@pytest.mark.parametrize('name', ['out.nii.gz', 'out.nii'])
def test_save_keeps_affine_and_header(tmp_path, name):
    ref = reference(tmp_path)
    labels = (np.arange(6 * 7 * 5).reshape(6, 7, 5) % 3).astype(np.uint8)
    path = save_nifti(tmp_path / 'sub' / name, labels, ref)  # a Path too (was an AttributeError on endswith)
    saved = nib.load(path)
    np.testing.assert_array_equal(np.asanyarray(saved.dataobj), labels)
    np.testing.assert_allclose(saved.affine, ref.affine)
    assert saved.header.get_zooms() == ref.header.get_zooms()
    assert saved.header['descrip'] == ref.header['descrip']
    assert saved.get_data_dtype() == np.uint8
    assert sorted(os.listdir(tmp_path / 'sub')) == [name]  # no temporary left


def test_failed_save_leaves_the_old_file(tmp_path, monkeypatch):
    ref = reference(tmp_path)
    path = str(tmp_path / 'out.nii.gz')
    save_nifti(path, np.zeros((6, 7, 5), np.uint8), ref)
    before = open(path, 'rb').read()

    def broken(fd):
        raise OSError('disk full')
    monkeypatch.setattr(os, 'fsync', broken)  # after the new bytes are written, before they replace the old
    with pytest.raises(OSError, match='disk full'):
        save_nifti(path, np.ones((6, 7, 5), np.uint8), ref)
    assert open(path, 'rb').read() == before
    assert sorted(os.listdir(tmp_path)) == ['out.nii.gz', 'ref.nii.gz']


@pytest.mark.parametrize('top, dtype', [(2, np.uint8), (255, np.uint8), (299, np.uint16)])
def test_saved_labels_keep_their_values_and_a_display_range(tmp_path, top, dtype):
    """Past 256 classes labels were wrapped into uint8 (class 260 saved as 4); the reference's intensity window
    (cal_max 3000) showed labels 0..2 as black."""
    ref = reference(tmp_path)
    ref.header['cal_max'] = 3000
    labels = (np.arange(6 * 7 * 5).reshape(6, 7, 5) % (top + 1)).astype(np.int64)
    labels[-1, -1, -1] = top
    saved = nib.load(save_nifti(str(tmp_path / 'out.nii.gz'), labels, ref))
    assert saved.get_data_dtype() == dtype and (saved.header['cal_min'], saved.header['cal_max']) == (0, top)
    np.testing.assert_array_equal(np.asanyarray(saved.dataobj), labels)


def test_saved_file_has_the_umask_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        path = save_nifti(str(tmp_path / 'out.nii.gz'), np.zeros((6, 7, 5), np.uint8), reference(tmp_path))
    finally:
        os.umask(old)
    assert os.stat(path).st_mode & 0o777 == 0o644  # mkstemp's 0600 before


@pytest.mark.parametrize('name', ['out', 'out.img', 'out.mgz'])
def test_a_name_that_is_not_one_file_nifti_is_refused(tmp_path, name):
    with pytest.raises(ValueError, match=rf'{name}: the name must end with .nii or .nii.gz'):
        save_nifti(str(tmp_path / name), np.zeros((6, 7, 5), np.uint8), reference(tmp_path))
    assert sorted(os.listdir(tmp_path)) == ['ref.nii.gz']


def test_shape_mismatch_is_an_error(tmp_path):
    with pytest.raises(ValueError, match=r'do not match the reference volume .*ref.nii.gz'):
        save_nifti(str(tmp_path / 'x.nii.gz'), np.zeros((2, 2, 2), np.uint8), reference(tmp_path))


def test_3d_model_predicts_the_whole_volume_with_its_windows(model):
    torch.manual_seed(0)
    model3d = MODELS.build(dict(type='UNet', num_classes=3, decoder=dict(decoder_channels=(8, 8, 8, 8)),
                                backbone=dict(type='VolumeResNet', depth=18, base_channels=4, in_channels=2,
                                              num_stages=3, out_indices=('stem', 0, 1, 2)),
                                test_cfg=dict(mode='slide', patch_size=(8, 16, 16), overlap=0.5))).eval()
    volume = np.random.default_rng(0).standard_normal((2, 11, 20, 18)).astype(np.float32)
    labels = predict_volume_3d(model3d, volume)
    with torch.no_grad():
        whole = model3d.labels(model3d.probabilities(model3d.predict_logits(torch.from_numpy(volume)[None])))[0]
    assert labels.shape == (11, 20, 18) and labels.dtype == np.uint8
    assert np.array_equal(labels, whole.numpy())
    with pytest.raises(ValueError, match='is a 2D model; use predict_volume'):
        predict_volume_3d(model, volume)
    with pytest.raises(ValueError, match='is a 3D model; use predict_volume_3d'):  # a patch_size error before
        predict_volume(model3d, volume, 0)


@pytest.mark.parametrize('value', [1.7, float('nan')])
def test_labels_that_are_not_whole_numbers_are_refused(tmp_path, value):
    # 1.7 was written as 1; NaN failed on an int conversion
    labels = np.zeros((6, 7, 5), np.float32)
    labels[0, 0, 0] = value
    with pytest.raises(ValueError, match='labels must be whole numbers'):
        save_nifti(str(tmp_path / 'x.nii.gz'), labels, reference(tmp_path))
    save_nifti(str(tmp_path / 'y.nii.gz'), np.round(np.nan_to_num(labels)), reference(tmp_path))  # 2.0: fine
