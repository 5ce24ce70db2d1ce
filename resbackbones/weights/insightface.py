"""insightface (arcface_torch) IResNet checkpoints -> our FaceRecognizer: backbone and embedding layers, all or nothing.

insightface saves the whole network flat: the IResNet backbone (``conv1``, ``bn1``, ``prelu``, ``layerN.*``) and
the embedding layers (``bn2``, ``fc``, ``features``). The backbone part goes through ``load_pretrained``; the
embedding part maps key for key onto ``FaceRecognizer.embedding``, whose names are insightface's. The margin head's
class weights live in a separate file in insightface (partial FC) and are not loaded.
"""
from __future__ import annotations

import os
from typing import Mapping

from torch import nn

from .io import Checkpoint, read_checkpoint
from .load import load_pretrained, log_report
from .report import LoadReport

EMBEDDING_PARTS = ('bn2', 'fc', 'features')


def load_insightface(model: nn.Module, checkpoint: str | os.PathLike | Mapping | Checkpoint,
                     strict: bool = True) -> LoadReport:
    """Load an arcface_torch IResNet checkpoint into a FaceRecognizer (``backbone`` + ``embedding``).

    Returns the backbone's LoadReport completed with the embedding layers (loaded, or missing / unexpected under
    ``strict=False``), and logs it once. Raises ValueError naming the keys
    when the embedding layers are missing or differ in shape (e.g. another input size or embedding width), or when
    the backbone does not fit; the model is then unchanged.
    """
    ckpt = read_checkpoint(checkpoint)
    head = {k: v for k, v in ckpt.state.items() if k.split('.')[0] in EMBEDDING_PARTS}
    target = model.embedding.state_dict()
    missing = sorted(k for k in target if k not in head and not k.endswith('num_batches_tracked'))
    unexpected = sorted(k for k in head if k not in target)
    mismatched = [f'{k}: checkpoint {tuple(head[k].shape)} vs model {tuple(target[k].shape)}'
                  for k in head if k in target and head[k].shape != target[k].shape]
    if mismatched or (strict and (missing or unexpected)):
        raise ValueError(f'{ckpt.origin}: the embedding layers do not fit: missing {missing[:5]}, unexpected '
                         f'{unexpected[:5]}, shapes {mismatched[:5]}. Check embedding_dim and input_size (the FC '
                         'reads the flattened last feature map). The model was not changed.')
    report = load_pretrained(model.backbone, ckpt, source='insightface', strict=strict, log=False)
    model.embedding.load_state_dict({**target, **{k: v for k, v in head.items() if k in target}})
    loaded = [k for k in head if k in target]
    report.loaded += len(loaded)
    report.missing += [f'embedding.{k}' for k in missing]  # kept as initialised (strict=False only)
    report.unexpected += unexpected
    report.ignored = [(k, why) for k, why in report.ignored if k.split('.')[0] not in EMBEDDING_PARTS]
    report.checkpoint = ckpt.origin
    report.notes.append(f'embedding layers ({", ".join(EMBEDDING_PARTS)}) -> embedding: {len(loaded)} tensors')
    log_report(report)  # once, complete: the backbone's alone called the embedding keys ignored
    return report
