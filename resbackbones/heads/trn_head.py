"""mmaction2's ``TRNHead`` (Temporal Relation Networks, Zhou et al. 2018): frame features related in ordered tuples.

Each frame's pooled feature is projected to ``hidden_dim`` (``fc``, mmaction2's ``fc_cls``); the ``consensus`` then
scores ordered tuples of a clip's frames with MLPs, so unlike TSN's average the score depends on frame order.
'TRN' scores the whole clip once; 'TRNMultiScale' adds tuples of every size down to 2 (at most three random tuples
per size), as mmaction2 and the paper. Module names follow mmaction2, so its TRN checkpoints load key for key.
"""
from __future__ import annotations

import itertools

import torch
from torch import nn

from ..layers.pooling import global_average
from ..registry import MODELS
from .action_head import _ActionHead, _check

RELATION_TYPES = ('TRN', 'TRNMultiScale')
MAX_TUPLES_PER_SCALE = 3  # mmaction2's max_subsample


def _relation_mlp(in_features: int, bottleneck: int, num_classes: int) -> nn.Sequential:
    return nn.Sequential(nn.ReLU(), nn.Linear(in_features, bottleneck), nn.ReLU(), nn.Linear(bottleneck, num_classes))


class RelationModule(nn.Module):
    """All ``num_segments`` frames in order -> one MLP (bottleneck 512) -> class scores."""

    def __init__(self, hidden_dim: int, num_segments: int, num_classes: int):
        super().__init__()
        self.classifier = _relation_mlp(num_segments * hidden_dim, 512, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(x.flatten(1))


class RelationModuleMultiScale(nn.Module):
    """Tuples of every size from ``num_segments`` down to 2, in frame order, each size with its own MLP (bottleneck
    256); the scores of the whole clip and of up to three tuples per smaller size (drawn at every call, in
    evaluation too, as mmaction2 does) are summed."""

    def __init__(self, hidden_dim: int, num_segments: int, num_classes: int):
        super().__init__()
        self.scales = tuple(range(num_segments, 1, -1))
        self.relations = [list(itertools.combinations(range(num_segments), scale)) for scale in self.scales]
        self.fc_fusion_scales = nn.ModuleList(_relation_mlp(scale * hidden_dim, 256, num_classes)
                                              for scale in self.scales)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scores = self.fc_fusion_scales[0](x.flatten(1))
        for relations, mlp in zip(self.relations[1:], self.fc_fusion_scales[1:]):
            for index in torch.randperm(len(relations))[:MAX_TUPLES_PER_SCALE].tolist():
                scores = scores + mlp(x[:, list(relations[index])].flatten(1))
        return scores


@MODELS.register_module()
class TRNHead(_ActionHead):
    """(N * clips * num_segments, C, H, W) frame features -> spatial average -> dropout -> ``fc`` to ``hidden_dim``
    -> relation module over each clip's frames -> (N * clips, num_classes).

    Args (mmaction2's): num_classes, in_channels, num_segments (frames per clip, default 8), spatial_type ('avg'),
        relation_type ('TRNMultiScale' or 'TRN'), hidden_dim (256), dropout_ratio (0.8), init_std (0.001: ``fc``'s
        normal init; the relation MLPs keep torch's default, as mmaction2).
    """

    @property
    def fc_lr5_layer(self) -> nn.Linear:
        """The layer TSM's fc_lr5 boosts: mmaction2 builds ``fc_cls`` (our ``fc``) after the relation module, so it
        is the last linear layer there."""
        return self.fc

    def __init__(self, num_classes: int, in_channels: int, num_segments: int = 8, spatial_type: str = 'avg',
                 relation_type: str = 'TRNMultiScale', hidden_dim: int = 256, dropout_ratio: float = 0.8,
                 init_std: float = 0.001):
        _check(num_classes, spatial_type, dropout_ratio, 'TRNHead')
        if isinstance(num_segments, bool) or not isinstance(num_segments, int) or num_segments < 2:
            raise ValueError(f'TRNHead: num_segments must be an integer >= 2 (relations need two frames); '
                             f'got {num_segments!r}')
        if relation_type not in RELATION_TYPES:
            raise ValueError(f'TRNHead: relation_type must be one of {RELATION_TYPES}; got {relation_type!r}')
        if isinstance(hidden_dim, bool) or not isinstance(hidden_dim, int) or hidden_dim < 1:
            raise ValueError(f'TRNHead: hidden_dim must be an integer >= 1; got {hidden_dim!r}')
        super().__init__(hidden_dim, in_channels, spatial_type, dropout_ratio, init_std)  # fc: in -> hidden_dim
        self.num_classes, self.num_segments, self.hidden_dim = num_classes, num_segments, hidden_dim
        relation = RelationModule if relation_type == 'TRN' else RelationModuleMultiScale
        self.consensus = relation(hidden_dim, num_segments, num_classes)

    def forward(self, x: torch.Tensor, num_segs: int | None = None) -> torch.Tensor:
        """``num_segs`` (frames per video, given by Recognizer2D) is not needed: clips have ``num_segments``."""
        if x.shape[0] % self.num_segments:
            raise ValueError(f'TRNHead: {x.shape[0]} frame features do not split into clips of {self.num_segments} '
                             f'frames (num_segments)')
        hidden = self.fc(self.dropout(global_average(x)))
        return self.consensus(hidden.view(-1, self.num_segments, self.hidden_dim))
