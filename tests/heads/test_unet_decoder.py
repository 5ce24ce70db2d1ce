import pytest
import torch

from resbackbones.heads.unet_decoder import UNetDecoder, decoder_plan
from resbackbones.registry import MODELS
from resbackbones.structures import FeatureSpec


def specs(strides, channels=8):
    return [FeatureSpec(f's{s}', channels * s, s) for s in strides]


def features(spec_list, size=64, batch=2):
    return [torch.randn(batch, s.channels, -(-size // s.stride), -(-size // s.stride)) for s in spec_list]


@pytest.mark.parametrize('strides, expected', [
    ((2, 4, 8, 16, 32), [(16, 2), (8, 2), (4, 2), (2, 2), (None, 2)]),
    ((4, 8, 16, 32), [(16, 2), (8, 2), (4, 2), (None, 2), (None, 2)]),
    ((1, 2, 4, 8, 16, 32), [(16, 2), (8, 2), (4, 2), (2, 2), (1, 2)]),
    ((8, 32), [(8, 4), (None, 2), (None, 2), (None, 2)]),
])
def test_plan_reaches_stride_one(strides, expected):
    plan = decoder_plan(specs(strides))
    assert [(s.stride if s else None, f) for s, f in plan] == expected


@pytest.mark.parametrize('upsample', ['nearest', 'bilinear', 'transposed'])
@pytest.mark.parametrize('attention', [None, 'gate', 'scse'])
def test_decoder_output_is_full_resolution(upsample, attention):
    spec_list = specs((2, 4, 8, 16, 32))
    decoder = UNetDecoder(spec_list, decoder_channels=(32, 16, 16, 8, 4), upsample=upsample, attention=attention)
    out = decoder(features(spec_list))
    assert out.shape == (2, 4, 64, 64)
    assert decoder.out_channels == 4


def test_decoder_accepts_features_in_any_declared_order():
    spec_list = specs((32, 2, 8, 4, 16))
    decoder = UNetDecoder(spec_list)
    assert decoder(features(spec_list)).shape == (2, 16, 64, 64)  # default widths 256..16


def test_skips_change_the_output():
    spec_list = specs((2, 4, 8, 16, 32))
    decoder = UNetDecoder(spec_list, decoder_channels=(16, 16, 8, 8, 8)).eval()
    feats = features(spec_list)
    changed = list(feats)
    changed[0] = torch.randn_like(feats[0])  # the stride-2 skip
    assert not torch.allclose(decoder(feats), decoder(changed))


@pytest.mark.parametrize('kwargs, message', [
    (dict(decoder_channels=(8, 8)), 'decoder_channels needs 5'),
    (dict(upsample='cubic'), 'upsample must be one of'),
    (dict(attention='cbam'), 'attention must be one of'),
    (dict(decoder_channels=16), 'decoder_channels needs 5 positive ints, one per block; got 16'),  # not iterable
    (dict(decoder_channels=(True, 16, 8, 8, 8)), 'decoder_channels needs 5'),  # torch's empty() TypeError
])
def test_bad_arguments_name_the_argument(kwargs, message):
    with pytest.raises(ValueError, match=message):
        UNetDecoder(specs((2, 4, 8, 16, 32)), **kwargs)


@pytest.mark.parametrize('strides, message', [((4, 4, 8), 'distinct'), ((3, 12), 'reach stride 1')])
def test_bad_strides(strides, message):
    with pytest.raises(ValueError, match=message):
        decoder_plan(specs(strides))


def test_registered_and_checks_feature_count():
    decoder = MODELS.build(dict(type='UNetDecoder', feature_specs=specs((2, 4))))
    with pytest.raises(ValueError, match='expects 2 features'):
        decoder(features(specs((2,))))


def specs3d(pairs, channels=8):
    """FeatureSpecs of a volumetric encoder from (depth stride, in-plane stride) pairs."""
    return [FeatureSpec(f's{s}', channels * s, s, d) for d, s in pairs]


@pytest.mark.parametrize('pairs, expected', [
    (((2, 2), (4, 4), (8, 8)), [((4, 4), (2, 2, 2)), ((2, 2), (2, 2, 2)), (None, (2, 2, 2))]),
    (((1, 2), (1, 4), (2, 8), (4, 16)),  # thick slices: depth halved only in the last two stages
     [((2, 8), (2, 2, 2)), ((1, 4), (2, 2, 2)), ((1, 2), (1, 2, 2)), (None, (1, 2, 2))]),
    (((2, 2), (4, 8)), [((2, 2), (2, 4, 4)), (None, (2, 2, 2))]),
])
def test_plan_3d_is_per_axis(pairs, expected):
    plan = decoder_plan(specs3d(pairs), dims=3)
    assert [((s.temporal_stride, s.stride) if s else None, f) for s, f in plan] == expected


def test_plan_3d_refuses_a_depth_step_that_is_not_whole():
    with pytest.raises(ValueError, match=r'\(depth, in-plane\) stride \(3, 8\) is not a multiple'):
        decoder_plan(specs3d(((2, 4), (3, 8))), dims=3)


@pytest.mark.parametrize('upsample', ['nearest', 'trilinear', 'transposed'])
@pytest.mark.parametrize('attention', [None, 'gate', 'scse'])
def test_decoder_3d_reaches_full_resolution_through_odd_skips(upsample, attention):
    spec_list = specs3d(((1, 2), (2, 4), (4, 8)))
    size = (9, 22, 18)  # odd skip grids (5x6x5, 3x3x3); the last x2 block doubles an even size
    feats = [torch.randn(1, s.channels, -(-size[0] // s.temporal_stride), -(-size[1] // s.stride),
                         -(-size[2] // s.stride)) for s in spec_list]
    decoder = UNetDecoder(spec_list, decoder_channels=(8, 8, 4), upsample=upsample, attention=attention, dims=3)
    out = decoder(feats)
    assert out.shape == (1, 4, 9, 22, 18)
    assert isinstance(decoder.blocks[0].conv1[0], torch.nn.Conv3d) and decoder.blocks[0].conv1[0].kernel_size == (3,) * 3


def test_a_transposed_upsample_short_of_its_skip_is_stretched_not_zero_padded():
    # an unpadded stem pool gives features of 15 under a skip of 32: the transposed conv's 30 was padded with zeros,
    # so the last rows and columns of every output saw no decoder features
    spec_list = specs((2, 4, 8, 16, 32))
    feats = [torch.randn(1, s.channels, n, n) for s, n in zip(spec_list, (32, 15, 8, 4, 2))]
    decoder = UNetDecoder(spec_list, upsample='transposed').eval()
    seen = []
    decoder.blocks[3].conv1.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    with torch.no_grad():
        decoder(feats)
    up = seen[0][:, :-spec_list[0].channels]  # the upsampled decoder part of the concatenation
    assert up.shape[-2:] == (32, 32) and up[..., -2:, :].abs().sum() > 0 and up[..., :, -2:].abs().sum() > 0
