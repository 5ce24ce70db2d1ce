"""global_average: the mean over every position of 2D and 3D maps, without copying a channels_last tensor."""
import pytest
import torch

from resbackbones.layers.pooling import global_average


@pytest.mark.parametrize('shape, memory_format', [((2, 5, 7, 3), torch.channels_last), ((2, 5, 7, 3), None),
                                                  ((2, 5, 4, 7, 3), torch.channels_last_3d)])
def test_mean_over_every_position(shape, memory_format):
    x = torch.randn(shape, dtype=torch.float64)
    if memory_format is not None:
        x = x.contiguous(memory_format=memory_format)
    pooled = global_average(x)
    assert pooled.shape == shape[:2]
    assert torch.allclose(pooled, x.reshape(*shape[:2], -1).mean(dim=-1))
    assert torch.allclose(pooled[1, 3], x[1, 3].mean())
