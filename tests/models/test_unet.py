"""UNet segmentor: shapes at odd sizes, derived decoder, modes, binary/multi-class, input skip, errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from resbackbones.registry import MODELS

TINY = dict(type='ResNet', depth=18, base_channels=8, out_indices=('stem', 0, 1, 2, 3))


def build(in_channels=1, **kwargs):
    cfg = dict(type='UNet', backbone=dict(TINY, in_channels=in_channels), num_classes=kwargs.pop('num_classes', 3),
               decoder=kwargs.pop('decoder', dict(decoder_channels=(32, 16, 16, 8, 8))))
    cfg.update(kwargs)
    return MODELS.build(cfg)


@pytest.mark.parametrize('size', [(64, 64), (65, 47), (33, 100)])
@pytest.mark.parametrize('in_channels', [1, 4])
def test_any_size_and_channels(size, in_channels):
    model = build(in_channels)
    assert model(torch.randn(2, in_channels, *size)).shape == (2, 3, *size)


@pytest.mark.parametrize('out_indices, input_skip, skip_strides', [
    (('stem', 0, 1, 2, 3), False, [16, 8, 4, 2, None]),
    ((0, 1, 2, 3), False, [16, 8, 4, None, None]),
    (('stem', 0, 1, 2, 3), True, [16, 8, 4, 2, 1]),
    ((1, 2), False, [8, None, None, None]),
])
def test_decoder_derived_from_feature_specs(out_indices, input_skip, skip_strides):
    model = MODELS.build(dict(type='UNet', backbone=dict(TINY, out_indices=out_indices, in_channels=1),
                              num_classes=2, input_skip=input_skip))
    specs = {s.stride: s.channels for s in model.backbone.feature_specs}
    specs.update({1: 1} if input_skip else {})
    previous = specs[max(specs)]
    for block, stride, width in zip(model.decoder.blocks, skip_strides, model.decoder.decoder_channels):
        assert block.conv1[0].in_channels == previous + (specs[stride] if stride else 0)
        previous = width
    assert len(model.decoder.blocks) == len(skip_strides)
    assert model.size_divisor == max(specs)
    assert model(torch.randn(1, 1, 40, 40)).shape == (1, 2, 40, 40)


def test_odd_sizes_are_zero_padded_then_cropped():
    model = build().eval()
    x = torch.randn(1, 1, 70, 45)
    padded = F.pad(x, (0, 96 - 45, 0, 96 - 70))
    expected = model.seg_head(model.decoder(list(model.backbone(padded))))[..., :70, :45]
    torch.testing.assert_close(model(x), expected)


def test_loss_mode_and_gradients_reach_the_encoder():
    model = build()
    gt = torch.randint(0, 3, (2, 48, 40))
    losses = model(torch.randn(2, 1, 48, 40), [dict(gt_sem_seg=g) for g in gt], mode='loss')
    assert set(losses) == {'loss_ce', 'loss_dice'}
    sum(losses.values()).backward()
    assert model.backbone.conv1.weight.grad.abs().sum() > 0


def test_collated_dict_of_lists_is_accepted():
    model = build()
    gt = torch.randint(0, 3, (2, 32, 32))
    losses = model(torch.randn(2, 1, 32, 32), dict(gt_sem_seg=list(gt), img_path=['a', 'b']), mode='loss')
    assert all(torch.isfinite(v) for v in losses.values())


def test_binary_model_has_one_sigmoid_channel():
    model = build(num_classes=2, binary=True).eval()
    x = torch.randn(1, 1, 32, 32)
    assert model(x).shape == (1, 1, 32, 32)
    out = model(x, [dict(gt_sem_seg=torch.zeros(32, 32, dtype=torch.long))], mode='predict')[0]
    assert out['seg_probs'].shape == (2, 32, 32)
    torch.testing.assert_close(out['seg_probs'].sum(0), torch.ones(32, 32))
    torch.testing.assert_close(out['pred_sem_seg'], (out['seg_probs'][1] >= 0.5).long())


def test_predict_crops_to_each_ground_truth_and_passes_meta():
    model = build().eval()
    samples = [dict(gt_sem_seg=torch.zeros(30, 20, dtype=torch.long), img_path='a.png'),
               dict(gt_sem_seg=torch.zeros(32, 32, dtype=torch.long), img_path='b.png')]
    outs = model(torch.randn(2, 1, 32, 32), samples, mode='predict')
    assert outs[0]['pred_sem_seg'].shape == (30, 20) and outs[1]['pred_sem_seg'].shape == (32, 32)
    assert outs[0]['img_path'] == 'a.png' and outs[0]['gt_sem_seg'].shape == (30, 20)


def test_slide_mode_uses_windows_and_matches_whole_for_one_window():
    whole = build(test_cfg=dict(mode='whole')).eval()
    one = build(test_cfg=dict(mode='slide', patch_size=64)).eval()
    many = build(test_cfg=dict(mode='slide', patch_size=32, overlap=0.5, batch_size=2)).eval()
    one.load_state_dict(whole.state_dict())
    many.load_state_dict(whole.state_dict())
    x = torch.randn(1, 1, 64, 64)
    torch.testing.assert_close(one.predict_logits(x), whole.predict_logits(x))
    sizes = []
    many.logits = lambda p: sizes.append(tuple(p.shape[-2:])) or whole.logits(p)
    assert many.predict_logits(torch.randn(1, 1, 80, 72)).shape == (1, 3, 80, 72)
    assert set(sizes) == {(32, 32)} and len(sizes) == 8  # 4 x 4 windows in batches of 2


@pytest.mark.parametrize('decoder', [dict(upsample='bilinear', attention='gate'),
                                     dict(upsample='transposed', attention='scse')])
def test_decoder_options_build_and_run(decoder):
    model = build(decoder=dict(decoder, decoder_channels=(16, 16, 8, 8, 8)))
    assert model(torch.randn(1, 1, 36, 36)).shape == (1, 3, 36, 36)


@pytest.mark.parametrize('kwargs, message', [
    (dict(num_classes=1), 'num_classes must be an int >= 2'),
    (dict(num_classes=3, binary=True), 'binary=True .* needs num_classes=2'),
    (dict(test_cfg=dict(mode='slide')), 'needs patch_size'),
    (dict(test_cfg=dict(mode='whole', stride=3)), "unknown test_cfg key\\(s\\) \\['stride'\\]"),
    (dict(test_cfg=dict(mode='slide', patch_size=32, sigma_scale=0)), 'test_cfg sigma_scale must be > 0; got 0'),
    (dict(test_cfg=dict(mode='slide', patch_size=32, overlap=1.0)), r'test_cfg overlap must be in \[0, 1\)'),
    (dict(test_cfg=dict(batch_size=0)), 'test_cfg batch_size must be an int >= 1'),
    (dict(test_cfg=dict(threshold=1.5)), r'test_cfg threshold must be in \(0, 1\)'),
    # these failed at the first test batch, after a whole training run
    (dict(test_cfg=dict(mode='slide', patch_size=0)), r'test_cfg patch_size must be a positive int or \(h, w\); '
                                                       r'got 0'),
    (dict(test_cfg=dict(mode='slide', patch_size=(64, 64, 64))), r'patch_size must be .*\(h, w\); got \(64, 64, 64\)'),
    (dict(test_cfg=dict(mode='slide', patch_size='128')), "patch_size must be a positive int or .*; got '128'"),
    (dict(decoder=dict(feature_specs=())), 'come from the backbone'),
    (dict(loss=[dict(type='DiceLoss'), dict(type='DiceLoss')]), 'loss names must differ'),
])
def test_bad_configs(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build(**kwargs)


def test_missing_ground_truth_in_loss_mode():
    with pytest.raises(ValueError, match="a.png has no 'gt_sem_seg'"):
        build()(torch.randn(1, 1, 32, 32), [dict(img_path='a.png')], mode='loss')


def test_pretrained_stem_adaptation_through_init_cfg(tmp_path):
    rgb = MODELS.build(dict(TINY, in_channels=3))
    path = tmp_path / 'rgb.pth'
    torch.save(rgb.state_dict(), path)
    model = MODELS.build(dict(type='UNet', num_classes=2, backbone=dict(
        TINY, in_channels=1, init_cfg=dict(type='Pretrained', checkpoint=str(path)))))
    model.init_weights()
    torch.testing.assert_close(model.backbone.layer1[0].conv1.weight, rgb.layer1[0].conv1.weight)
    assert model.backbone.conv1.weight.shape[1] == 1
    torch.testing.assert_close(model.backbone.conv1.weight[:, 0], rgb.conv1.weight.sum(1))


def test_predictions_without_masks_keep_their_images_size():
    """In a batch of images of several sizes, predictions without masks kept the padded batch size (inference on a
    folder of images); PackSegInputs now records each image's size."""
    from mmengine.dataset import pseudo_collate

    from resbackbones.registry import TRANSFORMS
    pack = TRANSFORMS.build(dict(type='PackSegInputs'))
    samples = [pack(dict(img=np.zeros((h, w, 1), np.float32), img_path=f'{h}.png')) for h, w in ((40, 50), (64, 33))]
    model = build(data_preprocessor=dict(type='ImgDataPreprocessor', pad_size_divisor=32)).eval()
    batch = model.data_preprocessor(pseudo_collate(samples), False)
    preds = model.predict(batch['inputs'], batch['data_samples'])
    assert batch['inputs'].shape[-2:] == (64, 64)
    assert [tuple(p['pred_sem_seg'].shape) for p in preds] == [(40, 50), (64, 33)]


def test_a_wrong_channel_count_is_named_with_the_input_shape():
    # the check ran after padding to a multiple of 32: it named a 64x64 input for this 37x53 one
    with pytest.raises(ValueError, match=r'takes 1-channel inputs .* got 3 channels, shape \(1, 3, 37, 53\)'):
        build(1)(torch.randn(1, 3, 37, 53))


@pytest.mark.parametrize('test_cfg', [dict(mode='slide', patch_size=32, overlap=0.25), dict(mode='whole')])
def test_an_images_prediction_does_not_depend_on_its_batch_mates(test_cfg):
    """Slide windows were laid over the padded batch and GroupNorm counted the padding: in a batch with a larger
    image, a smaller one's labels changed (411 of 1,665 pixels at random weights)."""
    model = build(backbone=dict(TINY, in_channels=1, norm_cfg=dict(type='GN', num_groups=4)), test_cfg=test_cfg,
                  decoder=dict(decoder_channels=(32, 16, 16, 8, 8), norm_cfg=dict(type='GN', num_groups=4))).eval()
    a, b = torch.randn(1, 1, 37, 45), torch.randn(1, 1, 50, 33)
    batch = torch.zeros(2, 1, 50, 45)
    batch[0, :, :37, :45], batch[1, :, :50, :33] = a[0], b[0]
    together = model.predict(batch, [dict(img_shape=(37, 45)), dict(img_shape=(50, 33))])
    alone = model.predict(a, [dict(img_shape=(37, 45))])[0]
    torch.testing.assert_close(together[0]['seg_probs'], alone['seg_probs'])
    assert together[1]['seg_probs'].shape == (3, 50, 33)
