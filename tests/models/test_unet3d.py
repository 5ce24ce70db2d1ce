"""UNet on a volumetric encoder: a 3D U-Net from the same config keys (shapes at odd sizes, per-axis padding,
loss and predict on label volumes, 3D sliding windows, the anisotropy warning)."""
from __future__ import annotations

import warnings

import pytest
import torch

from resbackbones.registry import MODELS

TINY3D = dict(type='VolumeResNet', depth=18, base_channels=8, in_channels=1, num_stages=3,
              out_indices=('stem', 0, 1, 2))


def build(backbone=None, **kwargs):
    cfg = dict(type='UNet', backbone=dict(TINY3D, **(backbone or {})), num_classes=3,
               decoder=dict(decoder_channels=(16, 8, 8, 8)))
    cfg.update(kwargs)
    return MODELS.build(cfg)


@pytest.mark.parametrize('backbone, size', [
    ({}, (16, 16, 16)), ({}, (11, 19, 13)),
    (dict(depth_strides=(1, 1, 2), depth_kernels=(1, 1, 3), stem_depth_stride=1, pool_depth_stride=1), (5, 27, 18)),
])
def test_3d_unet_logits_have_the_input_size(backbone, size):
    model = build(backbone)
    assert model.dims == 3 and model.decoder.dims == 3
    assert model(torch.randn(2, 1, *size)).shape == (2, 3, *size)


def test_depth_is_padded_to_its_own_stride():
    model = build(dict(depth_strides=(1, 1, 2), depth_kernels=(1, 1, 3), stem_depth_stride=1, pool_depth_stride=1))
    assert (model.depth_divisor, model.size_divisor) == (2, 16)
    seen = []
    model.backbone.register_forward_pre_hook(lambda m, args: seen.append(tuple(args[0].shape[2:])))
    model(torch.randn(1, 1, 5, 17, 16))
    assert seen == [(6, 32, 16)]


def test_loss_and_predict_on_label_volumes():
    model = build()
    x = torch.randn(2, 1, 12, 16, 16)
    samples = [dict(gt_sem_seg=torch.randint(0, 3, (12, 16, 16)), img_path='a.nii.gz', spacing=(1., 1., 1.)),
               dict(gt_sem_seg=torch.randint(0, 3, (10, 15, 16)), img_path='b.nii.gz', spacing=(1., 1., 1.))]
    losses = model(x, samples, mode='loss')
    total = sum(losses.values())
    total.backward()
    assert model.backbone.conv1.weight.grad.abs().sum() > 0
    outs = model.eval()(x, samples, mode='predict')
    assert outs[1]['pred_sem_seg'].shape == (10, 15, 16) and outs[1]['seg_probs'].shape == (3, 10, 15, 16)


def test_slide_mode_windows_are_3d_and_one_window_equals_whole():
    whole = build().eval()
    one = build(test_cfg=dict(mode='slide', patch_size=(8, 16, 16))).eval()
    one.load_state_dict(whole.state_dict())
    x = torch.randn(1, 1, 8, 16, 16)
    torch.testing.assert_close(one.predict_logits(x), whole.predict_logits(x))
    many = build(test_cfg=dict(mode='slide', patch_size=(8, 16, 16), overlap=0.5, batch_size=3)).eval()
    sizes = []
    many.logits = lambda p: sizes.append(tuple(p.shape[2:])) or whole.logits(p)
    assert many.predict_logits(torch.randn(1, 1, 12, 20, 16)).shape == (1, 3, 12, 20, 16)
    assert set(sizes) == {(8, 16, 16)} and len(sizes) == 2  # 2 x 2 x 1 windows in batches of 3


def test_2d_inputs_to_a_3d_model_are_an_error():
    with pytest.raises(ValueError, match=r'inputs must be \(N, C, D, H, W\) for this 3D model'):
        build()(torch.randn(1, 1, 16, 16))


def test_anisotropic_spacing_with_isotropic_strides_warns_naming_the_axis():
    model = build().eval()
    x = torch.randn(1, 1, 8, 16, 16)
    with pytest.warns(UserWarning, match=r'a.nii.gz has spacing 3 mm along depth \(axis D\) vs 1 mm in-plane'):
        model(x, [dict(img_path='a.nii.gz', spacing=(3.0, 1.0, 1.0))], mode='predict')
    thick = build(dict(depth_strides=(1, 1, 2), depth_kernels=(1, 1, 3), stem_depth_stride=1,
                       pool_depth_stride=1)).eval()
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        thick(x, [dict(img_path='a.nii.gz', spacing=(3.0, 1.0, 1.0))], mode='predict')


def test_unlabelled_volumes_of_a_batch_come_back_at_their_own_sizes():
    """PackVolumeInputs gave no img_shape, so without labels each prediction kept the padded batch's size."""
    import numpy as np
    from mmengine.dataset import pseudo_collate

    from resbackbones.transforms import PackVolumeInputs
    shapes = [(7, 10, 12), (9, 8, 14)]
    packed = [PackVolumeInputs()(dict(img=np.random.rand(1, *s).astype(np.float32), img_path=f'{i}.nii.gz'))
              for i, s in enumerate(shapes)]
    outs = build().eval().test_step(pseudo_collate(packed))
    assert [tuple(o['pred_sem_seg'].shape) for o in outs] == shapes
