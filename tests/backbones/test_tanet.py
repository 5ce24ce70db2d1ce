"""TANet: mmaction2's Temporal Adaptive Network as the 2D core with a TAM after every bottleneck's first conv."""
import sys
from pathlib import Path

import pytest
import torch
import torchvision

from resbackbones.registry import MODELS
from resbackbones.weights import load_pretrained

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared mmaction2 reference
import mmaction2_reference as ref  # noqa: E402

TINY = dict(stage_blocks=(1, 2, 1, 1), base_channels=8)


def _tanet(**kwargs):
    return MODELS.build({'type': 'TANet', 'depth': 50, 'num_segments': 4, **TINY, **kwargs})


@pytest.mark.parametrize('tam_cfg', [None, dict(alpha=3, adaptive_kernel_size=5, adaptive_convolution_padding=2)])
@torch.no_grad()
def test_mmaction2_tanet_checkpoint_gives_its_outputs(tmp_path, randomise, tam_cfg):
    theirs = randomise(ref.TANet(TINY['stage_blocks'], 8, num_segments=4, tam_cfg=tam_cfg))
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in theirs.state_dict().items()},
                'meta': {'mmaction2_version': '1.2.0'}}, tmp_path / 'tanet.pth')
    ours = _tanet(tam_cfg=tam_cfg)
    report = load_pretrained(ours, str(tmp_path / 'tanet.pth'), strict=True)
    assert not report.missing and not report.unexpected  # TABlock's '.block' dropped, 'tam' kept
    frames = torch.rand(2 * 4, 3, 64, 64)
    [out] = ours.eval()(frames)
    torch.testing.assert_close(out, theirs(frames), rtol=1e-4, atol=1e-4)


def test_r50_has_mmaction2s_parameter_count():
    # counted on mmaction2 1.2.0's own TANet(depth=50, num_segments=8); metafile: 25.6M with a 400-class head
    assert sum(p.numel() for p in MODELS.build(dict(type='TANet', depth=50, num_segments=8)).parameters()) == \
        24_770_720


def test_an_imagenet_resnet_loads_and_only_the_tams_stay_new(tmp_path, randomise):
    torch.save(randomise(torchvision.models.resnet50()).state_dict(), tmp_path / 'r50.pth')
    report = load_pretrained(MODELS.build(dict(type='TANet', depth=50, num_segments=8)), str(tmp_path / 'r50.pth'))
    assert report.missing and all('.tam.' in key for key in report.missing)


@pytest.mark.parametrize('kwargs, message', [
    (dict(depth=18), 'depth must be 50, 101 or 152'),
    (dict(num_segments=2), 'num_segments must be an integer >= 3'),
    (dict(shift_div=4), r"TANet does not take \['shift_div'\]"),
])
def test_bad_arguments_name_themselves(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _tanet(**kwargs)
