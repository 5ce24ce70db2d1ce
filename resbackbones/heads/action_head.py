"""mmaction2's recognition heads: ``I3DHead`` (3D features), ``SlowFastHead`` (a SlowFast backbone's two pathways),
``TPNHead`` (a TPN neck's 3D map), ``TSNHead`` and ``TSMHead`` (2D frame features + segment consensus),
``TSNAudioHead`` (a 2D map per spectrogram clip).

All are a linear classifier over spatially (and temporally) averaged backbone features, with mmaction2's argument
names (``dropout_ratio``, ``init_std``, ``spatial_type``, ``consensus``). The linear layer is ``fc`` (this project's
``head.fc``): mmaction2 checkpoints' ``cls_head.fc_cls`` loads into it through ``load_pretrained``.
"""
from __future__ import annotations

import torch
from torch import nn

from ..layers.pooling import global_average
from ..registry import MODELS


def _check(num_classes, spatial_type: str, dropout_ratio: float, owner: str) -> None:
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f'{owner}: num_classes must be an integer >= 1; got {num_classes!r}')
    if spatial_type != 'avg':
        raise ValueError(f"{owner}: only spatial_type='avg' is supported; got {spatial_type!r}")
    if not 0 <= dropout_ratio < 1:
        raise ValueError(f'{owner}: dropout_ratio must be in [0, 1); got {dropout_ratio!r}')


class _ActionHead(nn.Module):
    def __init__(self, num_classes: int, in_channels: int, spatial_type: str, dropout_ratio: float,
                 init_std: float):
        super().__init__()
        _check(num_classes, spatial_type, dropout_ratio, type(self).__name__)
        self.num_classes, self.in_channels, self.init_std = num_classes, in_channels, init_std
        self.dropout = nn.Dropout(dropout_ratio) if dropout_ratio > 0 else nn.Identity()
        self.fc = nn.Linear(in_channels, num_classes)
        nn.init.normal_(self.fc.weight, std=init_std)  # mmaction2's normal_init(fc_cls, std=init_std), bias 0
        nn.init.zeros_(self.fc.bias)


@MODELS.register_module()
class I3DHead(_ActionHead):
    """(N, C, T, H, W) features -> average over T, H, W -> dropout -> fc -> (N, num_classes) logits."""

    def __init__(self, num_classes: int, in_channels: int, spatial_type: str = 'avg', dropout_ratio: float = 0.5,
                 init_std: float = 0.01):
        super().__init__(num_classes, in_channels, spatial_type, dropout_ratio, init_std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(global_average(x)))


@MODELS.register_module()
class TPNHead(I3DHead):
    """mmaction2's TPNHead over 3D features: I3DHead's average, dropout and fc, with TSNHead's defaults (dropout 0.4)
    and its ``consensus`` argument (only ``AvgConsensus`` over dim 1, which a single 3D map leaves unchanged)."""

    def __init__(self, num_classes: int, in_channels: int, spatial_type: str = 'avg', consensus: dict | None = None,
                 dropout_ratio: float = 0.4, init_std: float = 0.01):
        super().__init__(num_classes, in_channels, spatial_type, dropout_ratio, init_std)
        if dict(consensus or dict(type='AvgConsensus', dim=1)) != dict(type='AvgConsensus', dim=1):
            raise ValueError(f"TPNHead: consensus must be dict(type='AvgConsensus', dim=1); got {consensus!r}")


@MODELS.register_module()
class SlowFastHead(_ActionHead):
    """(slow (N, C_s, T_s, H, W), fast (N, C_f, T_f, H, W)) -> each averaged over T, H, W -> concatenated, fast
    first (mmaction2's order, so its ``fc_cls`` loads as it was trained) -> dropout -> fc -> (N, num_classes).
    ``in_channels`` is C_s + C_f."""

    def __init__(self, num_classes: int, in_channels: int, spatial_type: str = 'avg', dropout_ratio: float = 0.8,
                 init_std: float = 0.01):
        super().__init__(num_classes, in_channels, spatial_type, dropout_ratio, init_std)

    @staticmethod
    def pool(features: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        """(N, C_f + C_s): the fast pathway's averaged features, then the slow one's."""
        slow, fast = features
        return torch.cat((global_average(fast), global_average(slow)), dim=1)

    def forward(self, x: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        return self.fc(self.dropout(self.pool(x)))


@MODELS.register_module()
class TSNHead(_ActionHead):
    """(N * segments, C, H, W) features -> spatial average -> average over a video's segments (consensus) ->
    dropout -> fc -> (N, num_classes). The average makes the score blind to frame order by construction.

    Args (besides num_classes, in_channels, spatial_type, dropout_ratio=0.4, init_std=0.01):
        consensus: mmaction2's ``dict(type='AvgConsensus', dim=1)``; the only kind.
    """

    def __init__(self, num_classes: int, in_channels: int, spatial_type: str = 'avg',
                 consensus: dict | None = None, dropout_ratio: float = 0.4, init_std: float = 0.01):
        super().__init__(num_classes, in_channels, spatial_type, dropout_ratio, init_std)
        consensus = dict(consensus or dict(type='AvgConsensus', dim=1))
        if consensus != dict(type='AvgConsensus', dim=1):
            raise ValueError(f"TSNHead: consensus must be dict(type='AvgConsensus', dim=1); got {consensus!r}")

    def forward(self, x: torch.Tensor, num_segs: int) -> torch.Tensor:
        if x.shape[0] % num_segs:
            raise ValueError(f'TSNHead: {x.shape[0]} frame features do not split into videos of {num_segs} segments')
        feats = global_average(x).view(-1, num_segs, x.shape[1]).mean(dim=1)
        return self.fc(self.dropout(feats))


@MODELS.register_module()
class TSMHead(_ActionHead):
    """(N * clips * segments, C, H, W) frame features -> spatial average -> dropout -> fc on every frame ->
    logits averaged over each clip's ``num_segments`` frames -> (N * clips, num_classes).

    Unlike TSNHead, the classifier scores each frame before the consensus (as mmaction2's TSMHead), and the segment
    count is the head's own ``num_segments`` (the backbone's shift needs it fixed), so a test pipeline with several
    clips per video gives one row per clip; the recognizer averages them per video as ``average_clips`` says.

    Args (besides num_classes, in_channels, spatial_type, dropout_ratio=0.8, init_std=0.001, mmaction2's defaults):
        num_segments: frames per clip, as the backbone's ``num_segments``.
        consensus: ``dict(type='AvgConsensus', dim=1)``, the only kind.
        is_shift / temporal_pool: with both, the backbone halved every clip's frames, so a clip has
            ``num_segments // 2`` rows here.
    """

    def __init__(self, num_classes: int, in_channels: int, num_segments: int = 8, spatial_type: str = 'avg',
                 consensus: dict | None = None, dropout_ratio: float = 0.8, init_std: float = 0.001,
                 is_shift: bool = True, temporal_pool: bool = False):
        super().__init__(num_classes, in_channels, spatial_type, dropout_ratio, init_std)
        if isinstance(num_segments, bool) or not isinstance(num_segments, int) or num_segments < 1:
            raise ValueError(f'TSMHead: num_segments must be an integer >= 1; got {num_segments!r}')
        consensus = dict(consensus or dict(type='AvgConsensus', dim=1))
        if consensus != dict(type='AvgConsensus', dim=1):
            raise ValueError(f"TSMHead: consensus must be dict(type='AvgConsensus', dim=1); got {consensus!r}")
        self.num_segments = num_segments
        self.rows_per_clip = num_segments // 2 if is_shift and temporal_pool else num_segments

    def forward(self, x: torch.Tensor, num_segs: int | None = None) -> torch.Tensor:
        """``num_segs`` (frames per video, given by Recognizer2D) is not needed: clips have ``num_segments``."""
        if x.shape[0] % self.rows_per_clip:
            raise ValueError(f'TSMHead: {x.shape[0]} frame features do not split into clips of {self.rows_per_clip} '
                             f'frames (num_segments={self.num_segments})')
        scores = self.fc(self.dropout(global_average(x)))
        return scores.view(-1, self.rows_per_clip, scores.shape[1]).mean(dim=1)


@MODELS.register_module()
class TSNAudioHead(_ActionHead):
    """(N * clips, C, h, w) features of spectrogram clips -> spatial average -> dropout -> fc -> (N * clips,
    num_classes): every clip scored on its own; the recognizer averages a video's clips as ``average_clips`` says.

    Args: num_classes, in_channels, spatial_type='avg', dropout_ratio=0.4, init_std=0.01 (mmaction2's).
    """

    def __init__(self, num_classes: int, in_channels: int, spatial_type: str = 'avg', dropout_ratio: float = 0.4,
                 init_std: float = 0.01):
        super().__init__(num_classes, in_channels, spatial_type, dropout_ratio, init_std)

    def forward(self, x: torch.Tensor, num_segs: int | None = None) -> torch.Tensor:
        """``num_segs`` (clips per video, given by the recognizer) is not needed: each row is a clip."""
        return self.fc(self.dropout(global_average(x)))
