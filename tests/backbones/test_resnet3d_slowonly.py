"""ResNet3dSlowOnly: mmaction2's SlowOnly type name is ResNet3d with SlowOnly's defaults, nothing else."""
import pytest
import torch

from resbackbones.registry import MODELS

SLOWONLY_AS_RESNET3D = dict(type='ResNet3d', depth=18, base_channels=8, conv1_kernel=(1, 7, 7), conv1_stride_t=1,
                            pool1_stride_t=1, inflate=(0, 0, 1, 1), with_pool2=False)


@torch.no_grad()
def test_slowonly_is_resnet3d_with_slowonlys_defaults(randomise):
    slowonly = MODELS.build(dict(type='ResNet3dSlowOnly', depth=18, base_channels=8, lateral=False, speed_ratio=8,
                                 channel_ratio=8)).eval()
    explicit = randomise(MODELS.build(SLOWONLY_AS_RESNET3D)).eval()
    slowonly.load_state_dict(explicit.state_dict(), strict=True)  # the same layers, key for key
    clip = torch.rand(1, 3, 8, 32, 32)
    torch.testing.assert_close(slowonly(clip)[0], explicit(clip)[0])
    default_i3d = MODELS.build(dict(type='ResNet3d', depth=18, base_channels=8))
    assert default_i3d.conv1.weight.shape[2] != slowonly.conv1.weight.shape[2]  # the defaults are SlowOnly's own


def test_lateral_connections_are_refused_by_name():
    with pytest.raises(ValueError, match='lateral must be False'):
        MODELS.build(dict(type='ResNet3dSlowOnly', depth=18, lateral=True))
