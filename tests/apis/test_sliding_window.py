import pytest
import torch
import torch.nn.functional as F

from resbackbones.apis import importance_map, sliding_window_inference, window_starts


@pytest.mark.parametrize('size, patch, overlap', [(100, 32, 0.5), (64, 32, 0.25), (33, 32, 0.0), (20, 32, 0.5)])
def test_windows_cover_with_overlap(size, patch, overlap):
    starts = window_starts(size, patch, overlap)
    assert starts[0] == 0
    assert starts[-1] == max(size - patch, 0)
    steps = [b - a for a, b in zip(starts, starts[1:])]
    assert all(0 < s <= patch * (1 - overlap) + 1 for s in steps)


def test_importance_map_peaks_in_the_centre_and_stays_positive():
    weights = importance_map((16, 20))
    assert weights.shape == (16, 20)
    assert weights.min() > 0
    assert weights[8, 10] == weights.max() and weights[0, 0] < weights[8, 10]
    assert torch.equal(importance_map((4, 4), 'constant'), torch.ones(4, 4))


@pytest.mark.parametrize('blend', ['gaussian', 'constant'])
@pytest.mark.parametrize('size', [(50, 70), (20, 24)])
def test_pointwise_predictor_is_reproduced_exactly(blend, size):
    x = torch.randn(2, 3, *size)
    out = sliding_window_inference(x, lambda p: torch.cat([p * 2 + 1, p.sum(1, keepdim=True)], 1), 32,
                                   overlap=0.5, blend=blend, batch_size=3)
    assert out.shape == (2, 4, *size)
    torch.testing.assert_close(out, torch.cat([x * 2 + 1, x.sum(1, keepdim=True)], 1), rtol=1e-5, atol=1e-5)


def test_batch_size_does_not_change_the_result():
    x = torch.randn(1, 1, 40, 40)
    blur = lambda p: F.avg_pool2d(p, 5, 1, 2)  # noqa: E731
    a = sliding_window_inference(x, blur, 16, overlap=0.5, batch_size=1)
    b = sliding_window_inference(x, blur, 16, overlap=0.5, batch_size=7)
    torch.testing.assert_close(a, b)


def test_gaussian_blending_reduces_patch_border_errors():
    x = torch.randn(1, 1, 64, 64)
    blur = lambda p: F.avg_pool2d(p, 7, 1, 3, count_include_pad=True)  # noqa: E731  (zero padding: border errors)
    full = blur(x)
    errors = {}
    for blend in ('gaussian', 'constant'):
        out = sliding_window_inference(x, blur, 24, overlap=0.5, blend=blend)
        errors[blend] = (out - full)[..., 6:-6, 6:-6].abs().mean()  # ignore the image border itself
    assert errors['gaussian'] < 0.8 * errors['constant']


@pytest.mark.parametrize('kwargs, message', [
    (dict(overlap=1.0), 'overlap'), (dict(blend='max'), 'blend'), (dict(batch_size=0), 'batch_size'),
    (dict(patch_size=(8, 0)), 'patch_size'), (dict(sigma_scale=0), 'sigma_scale must be a number > 0'),
    (dict(sigma_scale=-0.1), 'sigma_scale'),
])
def test_bad_arguments(kwargs, message):
    args = dict(patch_size=8)
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        sliding_window_inference(torch.zeros(1, 1, 16, 16), lambda p: p, **args)


def test_predictor_with_wrong_output_shape_is_reported():
    with pytest.raises(ValueError, match='predictor must map'):
        sliding_window_inference(torch.zeros(1, 1, 16, 16), lambda p: p[..., :4, :4], 8)


@pytest.mark.parametrize('size', [(9, 20, 23), (5, 6, 7)])  # the second is smaller than the patch: padded
def test_3d_windows_reproduce_a_pointwise_predictor(size):
    x = torch.randn(2, 2, *size)
    out = sliding_window_inference(x, lambda p: p[:, :1] * 3 - p[:, 1:], (8, 12, 12), overlap=0.5, batch_size=5)
    assert out.shape == (2, 1, *size)
    torch.testing.assert_close(out, x[:, :1] * 3 - x[:, 1:], rtol=1e-5, atol=1e-5)


def test_3d_importance_map_is_the_product_of_axis_gaussians():
    weights = importance_map((5, 7, 9))
    assert weights.shape == (5, 7, 9) and weights.min() > 0
    assert weights[2, 3, 4] == weights.max()
    assert weights[0, 3, 4] < weights[1, 3, 4] < weights[2, 3, 4]


def test_3d_blending_batches_windows_and_gives_the_same_result():
    x = torch.randn(1, 1, 12, 20, 20)
    blur = lambda p: F.avg_pool3d(p, 3, 1, 1)  # noqa: E731
    calls = []
    a = sliding_window_inference(x, lambda p: calls.append(p.shape[0]) or blur(p), 8, overlap=0.5, batch_size=4)
    b = sliding_window_inference(x, blur, 8, overlap=0.5, batch_size=1)
    torch.testing.assert_close(a, b)
    assert max(calls) == 4 and sum(calls) == len(window_starts(12, 8, .5)) * len(window_starts(20, 8, .5)) ** 2


def test_numpy_integer_sizes_and_an_empty_batch():
    import numpy as np
    x = torch.rand(1, 1, 20, 20)
    out = sliding_window_inference(x, lambda p: p, patch_size=np.int64(8))  # was "not iterable"
    assert torch.allclose(out, x)
    assert torch.allclose(sliding_window_inference(x, lambda p: p, patch_size=(np.int64(8), np.int64(8))), x)
    with pytest.raises(ValueError, match='inputs hold no sample'):  # was an AttributeError on None
        sliding_window_inference(torch.zeros(0, 1, 16, 16), lambda p: p, patch_size=8)
