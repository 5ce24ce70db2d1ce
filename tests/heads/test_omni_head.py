"""OmniHead: the image classifier for (N, C, H, W) features, the video one for (N, C, T, H, W), in mmaction2's order."""
import pytest
import torch
from torch import nn

from resbackbones.heads import OmniHead


def test_layers_sit_where_mmaction2s_checkpoints_put_them():
    head = OmniHead(image_classes=10, video_classes=4, in_channels=16)
    layers = dict(head.named_modules())
    assert isinstance(layers['fc2d.2'], nn.BatchNorm1d) and layers['fc2d.4'].out_features == 10
    assert layers['fc3d.2'].out_features == 8 and isinstance(layers['fc3d.3'], nn.BatchNorm1d)  # 2 x video classes
    assert layers['fc3d.6'].out_features == 4
    linear = OmniHead(image_classes=10, video_classes=4, in_channels=16, video_nl_head=False)
    assert isinstance(dict(linear.named_modules())['fc3d.2'], nn.BatchNorm1d) and linear.fc3d[4].out_features == 4


@torch.no_grad()
def test_the_features_rank_picks_the_classifier():
    head = OmniHead(image_classes=10, video_classes=4, in_channels=16).eval()
    images, clips = torch.randn(3, 16, 2, 2), torch.randn(3, 16, 2, 2, 2)
    assert head(images).shape == (3, 10) and head(clips).shape == (3, 4)
    torch.testing.assert_close(head(images), head.fc2d[4](head.fc2d[2](images.mean(dim=(2, 3)))))


@pytest.mark.parametrize('kwargs, match', [
    (dict(image_classes=0), 'image_classes must be an integer >= 1'),
    (dict(video_classes=2.5), 'video_classes must be an integer >= 1'),
    (dict(video_dropout_ratio=1.0), r'video_dropout_ratio must be in \[0, 1\)'),
])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        OmniHead(**{**dict(image_classes=10, video_classes=4, in_channels=16), **kwargs})


def test_features_of_another_rank_are_refused():
    with pytest.raises(ValueError, match=r'got shape \(3, 16\)'):
        OmniHead(image_classes=10, video_classes=4, in_channels=16)(torch.randn(3, 16))
