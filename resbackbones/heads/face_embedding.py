"""ArcFace's embedding layers: BN, dropout, flatten, FC to the embedding width, BatchNorm1d (insightface's names)."""
from __future__ import annotations

import torch
from torch import nn

from ..registry import MODELS


@MODELS.register_module()
class FaceEmbeddingHead(nn.Module):
    """(N, C, h, w) last backbone feature -> (N, embedding_dim) face embedding, as insightface's IResNet ends.

    Args:
        in_channels, feature_size: channels and (h, w) of the feature map; FaceRecognizer derives both from the
            backbone's feature specs and its input size, so configs never type them.
        embedding_dim: width of the embedding (512 in ArcFace). dropout: before the FC (insightface: 0).

    The final BatchNorm1d has its scale fixed to 1 and not trained, as in insightface, so only its shift learns.
    """

    def __init__(self, in_channels: int, feature_size: tuple[int, int], embedding_dim: int = 512,
                 dropout: float = 0.0):
        super().__init__()
        if embedding_dim < 1 or not 0.0 <= dropout < 1.0:
            raise ValueError(f'embedding_dim must be >= 1 and dropout in [0, 1); got {embedding_dim}, {dropout}')
        self.feature_size = tuple(feature_size)
        self.bn2 = nn.BatchNorm2d(in_channels)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(in_channels * self.feature_size[0] * self.feature_size[1], embedding_dim)
        self.features = nn.BatchNorm1d(embedding_dim)
        nn.init.ones_(self.features.weight)
        self.features.weight.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if tuple(x.shape[-2:]) != self.feature_size:
            raise ValueError(f'FaceEmbeddingHead was sized for {self.feature_size} feature maps (from the model\'s '
                             f'input_size) but got {tuple(x.shape[-2:])}: feed images of the configured input_size')
        return self.features(self.fc(self.dropout(torch.flatten(self.bn2(x), 1))))
