"""Stochastic depth: drop a residual branch per sample during training (Huang et al., 2016)."""
import torch
from torch import nn


class DropPath(nn.Module):
    """Zero the input for a random ``rate`` fraction of samples and rescale the rest by 1/(1-rate)."""

    def __init__(self, rate: float = 0.0):
        super().__init__()
        if not 0.0 <= rate < 1.0:
            raise ValueError(f'drop path rate must be in [0, 1); got {rate}')
        self.rate = rate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.rate == 0.0:
            return x
        keep = 1.0 - self.rate
        mask = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(keep)
        return x * mask / keep

    def extra_repr(self) -> str:
        return f'rate={self.rate}'
