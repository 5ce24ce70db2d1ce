"""Temporal head: a sequence model over per-frame features, an order-aware alternative to average consensus.

TSN averages the scores of a clip's frames, which cannot tell a sequence from its reverse or a shuffle. This head
runs an LSTM or a Transformer encoder over the frames' features in time order and classifies the sequence:
(N * num_segments, C) per-frame features, grouped as TSN groups frames (clip-major), -> (N, num_classes).
"""
from __future__ import annotations

import torch
from torch import nn

from ..layers.pooling import global_average
from ..registry import MODELS

KINDS = ('lstm', 'transformer')


@MODELS.register_module()
class TemporalHead(nn.Module):
    """Frame features in time order -> sequence model -> dropout -> ``fc`` logits.

    Args:
        num_classes / in_channels: output classes and per-frame feature channels C (from the backbone's specs).
        num_segments: frames per clip, the default of ``forward``'s ``num_segments``.
        kind: 'lstm' (logits from the last step's hidden state; with ``bidirectional`` also the backward pass's
            first step) or 'transformer' (a learned position embedding per frame, pre-norm encoder layers, mean over
            frames: the positions make it order-aware).
        hidden_channels: width of the sequence model (default 256). num_layers: its depth. num_heads: attention
            heads (transformer; must divide hidden_channels). dropout: before ``fc``.
    """

    def __init__(self, num_classes: int, in_channels: int, num_segments: int, kind: str = 'lstm',
                 hidden_channels: int = 256, num_layers: int = 1, num_heads: int = 4, bidirectional: bool = False,
                 dropout: float = 0.0):
        super().__init__()
        for name, value in (('num_classes', num_classes), ('in_channels', in_channels),
                            ('num_segments', num_segments), ('hidden_channels', hidden_channels),
                            ('num_layers', num_layers)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f'TemporalHead {name} must be an integer >= 1; got {value!r}')
        if kind not in KINDS:
            raise ValueError(f'TemporalHead kind must be one of {KINDS}; got {kind!r}')
        self.kind, self.num_segments = kind, num_segments
        if kind == 'lstm':
            self.lstm = nn.LSTM(in_channels, hidden_channels, num_layers, batch_first=True,
                                bidirectional=bidirectional)
            out = hidden_channels * (2 if bidirectional else 1)
        else:
            if bidirectional:
                raise ValueError("TemporalHead: bidirectional is for kind='lstm' (a Transformer sees both ways)")
            if hidden_channels % num_heads:
                raise ValueError(f'TemporalHead num_heads={num_heads} must divide hidden_channels={hidden_channels}')
            self.proj = nn.Linear(in_channels, hidden_channels)
            self.pos_embed = nn.Parameter(torch.zeros(1, num_segments, hidden_channels))
            nn.init.trunc_normal_(self.pos_embed, std=0.02)
            layer = nn.TransformerEncoderLayer(hidden_channels, num_heads, 2 * hidden_channels, dropout=0.0,
                                               batch_first=True, norm_first=True)
            self.encoder = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
            self.norm = nn.LayerNorm(hidden_channels)
            out = hidden_channels
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.fc = nn.Linear(out, num_classes)

    def forward(self, x: torch.Tensor, num_segments: int | None = None, num_segs: int | None = None) -> torch.Tensor:
        """(N * num_segments, C) features, or (N * num_segments, C, h, w) feature maps (averaged over space, as
        Recognizer2D hands them), frames of a clip consecutive and in time order -> (N, num_classes): one row per
        clip. Recognizer2D's ``num_segs`` (all frames of a video: clips x crops) is not the sequence: it ran every
        view of a test video through the LSTM as one sequence, as TSMHead and TRNHead do not."""
        segments = num_segments or self.num_segments
        if x.dim() > 2:
            x = global_average(x)
        if x.dim() != 2 or x.shape[0] % segments:
            raise ValueError(f'TemporalHead takes (N * num_segments, C) frame features with num_segments={segments}; '
                             f'got shape {tuple(x.shape)}')
        seq = x.view(-1, segments, x.shape[1])
        if self.kind == 'lstm':
            out, _ = self.lstm(seq)
            if self.lstm.bidirectional:  # forward pass ends at the last frame, backward pass at the first
                h = self.lstm.hidden_size
                feat = torch.cat([out[:, -1, :h], out[:, 0, h:]], dim=1)
            else:
                feat = out[:, -1]
        else:
            if segments > self.pos_embed.shape[1]:
                raise ValueError(f'TemporalHead was built for up to {self.pos_embed.shape[1]} frames; got {segments}')
            feat = self.norm(self.encoder(self.proj(seq) + self.pos_embed[:, :segments])).mean(dim=1)
        return self.fc(self.dropout(feat))
