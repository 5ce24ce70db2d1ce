"""TAM: TANet's temporal adaptive module, against mmaction2's grouped-conv2d form."""
import sys
from pathlib import Path

import pytest
import torch

from resbackbones.layers.temporal_adaptive import TAM

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared mmaction2 reference
import mmaction2_reference as ref  # noqa: E402


@pytest.mark.parametrize('cfg', [dict(), dict(alpha=3, beta=2, adaptive_kernel_size=5, adaptive_convolution_padding=2)])
@torch.no_grad()
def test_tam_equals_mmaction2s(randomise, cfg):
    theirs = randomise(ref.TAM(16, 4, **cfg))
    ours = TAM(16, 4, **cfg).eval()
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(2 * 4, 16, 5, 7)
    out = ours(x)
    assert out.shape == x.shape
    torch.testing.assert_close(out, theirs(x), rtol=1e-5, atol=1e-5)


def test_each_clip_gets_its_own_kernel():
    tam = TAM(8, 4).eval()
    x = torch.randn(8, 8, 3, 3)
    with torch.no_grad():  # the second clip's output does not depend on the first clip's frames
        a, b = tam(x), tam(torch.cat([torch.randn(4, 8, 3, 3), x[4:]]))
    torch.testing.assert_close(a[4:], b[4:])
    assert not torch.allclose(a[:4], b[:4])


@pytest.mark.parametrize('kwargs, message', [
    (dict(adaptive_kernel_size=5), 'must keep num_segments=4 frames'),
    (dict(beta=0), 'beta must be an integer >= 1'),
])
def test_bad_settings_name_themselves(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TAM(8, 4, **kwargs)


def test_a_batch_of_partial_clips_is_refused():
    with pytest.raises(ValueError, match=r'TAM takes \(N \* 4, 8, H, W\) frames; got \(6, 8, 3, 3\)'):
        TAM(8, 4)(torch.randn(6, 8, 3, 3))


def test_a_clip_tensor_is_refused_with_the_frame_layout():
    # (N, C, T, H, W) met Python's 'too many values to unpack' before the shape check
    with pytest.raises(ValueError, match=r'TAM takes \(N \* 4, 16, H, W\) frames; got \(2, 16, 4, 5, 5\)'):
        TAM(16, 4)(torch.randn(2, 16, 4, 5, 5))
