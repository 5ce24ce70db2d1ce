"""mmaction2's recognizer arguments that are not the head's own: checked once for Recognizer2D and Recognizer3D.

mmaction2 configs give ``cls_head`` with ``average_clips`` and ``loss_cls`` inside it, ``in_channels`` written out,
and ``train_cfg`` / ``test_cfg`` beside it. Here the recognizer takes ``average_clips`` and whether it is multi-label
(BCE) or single-label (cross-entropy), and the channels come from the backbone's feature specs (a written
``in_channels`` must agree).
"""
from __future__ import annotations

AVERAGES = ('prob', 'score')


def check_train_test_cfg(owner: str, train_cfg: dict | None, test_cfg: dict | None) -> None:
    """mmaction2 sets both to None (1.x); options in them have no counterpart here, so they are refused."""
    if train_cfg or test_cfg:
        raise ValueError(f'{owner}: train_cfg/test_cfg options are not supported; got {train_cfg!r}, {test_cfg!r}')


BCE = 'BCELossWithLogits'


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
