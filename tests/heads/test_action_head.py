"""mmaction2's TSMHead: every frame scored, then a clip's scores averaged; clips of num_segments frames."""
import pytest
import torch

from resbackbones.registry import MODELS


def _head(**kwargs):
    return MODELS.build(dict(type='TSMHead', num_classes=3, in_channels=6, dropout_ratio=0.0, **kwargs)).eval()


@pytest.mark.parametrize('temporal_pool, rows_per_clip', [(False, 4), (True, 2)])
@torch.no_grad()
def test_tsm_head_scores_every_frame_then_averages_each_clip(temporal_pool, rows_per_clip):
    head = _head(num_segments=4, temporal_pool=temporal_pool)
    torch.nn.init.normal_(head.fc.bias)  # a bias shows whether it is added per frame and then averaged
    feats = torch.randn(3 * rows_per_clip, 6, 2, 2)  # 3 clips
    per_frame = feats.mean(dim=(2, 3)) @ head.fc.weight.T + head.fc.bias
    expected = per_frame.view(3, rows_per_clip, 3).mean(dim=1)
    torch.testing.assert_close(head(feats, num_segs=99), expected)  # num_segs is not used, as in mmaction2


def test_tsm_head_init_is_mmaction2s():
    head = MODELS.build(dict(type='TSMHead', num_classes=400, in_channels=2048))
    assert 0.0007 < head.fc.weight.std() < 0.0013 and head.fc.bias.abs().max() == 0  # normal_init(std=0.001)
    assert head.dropout.p == 0.8


@pytest.mark.parametrize('kwargs, message', [
    (dict(num_segments=0), 'num_segments must be an integer >= 1'),
    (dict(consensus=dict(type='MaxConsensus')), 'AvgConsensus'),
    (dict(spatial_type='max'), "only spatial_type='avg'"),
])
def test_tsm_head_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _head(**kwargs)


def test_tsm_head_names_frames_that_do_not_make_clips():
    with pytest.raises(ValueError, match=r'10 frame features do not split into clips of 4 frames'):
        _head(num_segments=4)(torch.randn(10, 6, 2, 2))
