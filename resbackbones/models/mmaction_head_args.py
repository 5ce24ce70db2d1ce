"""mmaction2's recognizer arguments that are not the head's own: checked once for Recognizer2D and Recognizer3D.

mmaction2 configs give ``cls_head`` with ``average_clips`` and ``loss_cls`` inside it, ``in_channels`` written out,
and ``train_cfg`` / ``test_cfg`` beside it. Here the recognizer takes ``average_clips`` and whether it is multi-label
(BCE) or single-label (cross-entropy), and the channels come from the backbone's feature specs (a written
``in_channels`` must agree).
"""
from __future__ import annotations

from typing import Any, Callable

import torch

AVERAGES = ('prob', 'score')


def max_testing_views(owner: str, train_cfg: dict | None, test_cfg: dict | None,
                      views_multiple_of: int = 1, also: tuple[str, ...] = ()) -> int | None:
    """mmaction2's ``test_cfg=dict(max_testing_views=K)`` (K views through the network at a time when testing, to
    bound memory; CSN's and MViT's configs), or None. ``train_cfg`` has no options here; test options other than
    those in ``also`` are refused by name. ``views_multiple_of``: a TSM backbone's num_segments, which K must
    be a multiple of so that no clip is split between two passes (as mmaction2 asserts)."""
    if train_cfg:
        raise ValueError(f'{owner}: train_cfg options are not supported; got {train_cfg!r}')
    allowed = ('max_testing_views',) + also
    unknown = sorted(set(test_cfg or {}) - set(allowed))
    if unknown:
        raise ValueError(f'{owner}: test_cfg options {unknown} are not supported (only {", ".join(allowed)}); '
                         f'got {test_cfg!r}')
    views = (test_cfg or {}).get('max_testing_views')
    if views is None:
        return None
    if not isinstance(views, int) or isinstance(views, bool) or views < 1 or views % views_multiple_of:
        raise ValueError(f'{owner}: test_cfg.max_testing_views must be an integer >= 1'
                         + (f' and a multiple of num_segments={views_multiple_of}' if views_multiple_of > 1 else '')
                         + f'; got {views!r}')
    return views


def in_chunks(function: Callable[[torch.Tensor], torch.Tensor], inputs: torch.Tensor,
              size: int | None) -> torch.Tensor:
    """``function(inputs)`` computed ``size`` rows at a time and concatenated (all at once when size is None): the
    same result for a per-row function, with peak memory bounded by ``size`` rows."""
    if size is None or inputs.shape[0] <= size:
        return function(inputs)
    return torch.cat([function(part) for part in inputs.split(size)])


BCE = 'BCELossWithLogits'


def base_head_args(owner: str, head: dict) -> tuple[float, tuple[int, ...]]:
    """Pop mmaction2's ``BaseHead`` arguments, which every head of its takes, from ``head``: (label smoothing of the
    cross-entropy, from ``label_smooth_eps``; the k of the training accuracies logged beside the loss, ``topk``)."""
    eps = head.pop('label_smooth_eps', 0.0)
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not 0 <= eps < 1:
        raise ValueError(f'{owner}: cls_head.label_smooth_eps must be in [0, 1); got {eps!r}')
    return float(eps), topk_of(owner, head.pop('topk', (1, 5)))


def topk_accuracies(logits: torch.Tensor, labels: torch.Tensor, topk: tuple[int, ...],
                    name: str = 'top{k}_acc') -> dict[str, torch.Tensor]:
    """mmaction2's training accuracies: for each k, the fraction of rows whose label is among the k best logits
    (logged, not trained on: the keys hold no 'loss')."""
    if not topk:
        return {}
    ranked = logits.detach().topk(min(max(topk), logits.shape[1]), dim=1).indices
    return {name.format(k=k): (ranked[:, :k] == labels[:, None]).any(dim=1).float().mean() for k in topk}


def topk_of(owner: str, value: Any) -> tuple[int, ...]:
    """mmaction2's ``topk``: an int k or a sequence of them, each >= 1, as a tuple."""
    ks = (value,) if isinstance(value, int) and not isinstance(value, bool) else \
        tuple(value) if isinstance(value, (list, tuple)) else ()
    if not ks or not all(isinstance(k, int) and not isinstance(k, bool) and k >= 1 for k in ks):
        raise ValueError(f'{owner}: cls_head.topk must be an integer >= 1 or a sequence of them; got {value!r}')
    return ks


def split_cls_head(owner: str, cls_head: dict, channels: int) -> tuple[dict, str, bool]:
    """``cls_head`` -> (the head's own arguments with ``in_channels`` = ``channels``, average_clips, multi_label).

    Multi-label is mmaction2's ``multi_class=True`` with ``loss_cls=dict(type='BCELossWithLogits')``: one without the
    other is refused (a softmax over multi-hot labels, or BCE on single labels, is not what either config means).
    """
    head = dict(cls_head)
    average_clips = head.pop('average_clips', 'prob')
    if average_clips not in AVERAGES:
        raise ValueError(f'{owner}: cls_head.average_clips must be one of {AVERAGES}; got {average_clips!r}')
    if head.setdefault('in_channels', channels) != channels:
        raise ValueError(f"{owner}: cls_head.in_channels={head['in_channels']} but the backbone's last feature has "
                         f'{channels} channels (leave in_channels out)')
    loss_cls = head.pop('loss_cls', None)
    multi_label = bool(head.pop('multi_class', False))
    allowed = [dict(type=BCE), dict(type=BCE, loss_weight=1.0)] if multi_label else \
        [None, dict(type='CrossEntropyLoss'), dict(type='CrossEntropyLoss', loss_weight=1.0)]
    if loss_cls not in allowed:
        want = f"dict(type='{BCE}')" if multi_label else "dict(type='CrossEntropyLoss')"
        raise ValueError(f'{owner}: cls_head.loss_cls must be {want} with multi_class={multi_label}; got {loss_cls!r}')
    return head, average_clips, multi_label
