"""A checkpoint's classes against the classes of the set it is scored on (or, for a distillation teacher, trained
with).

mmengine writes the training set's ``metainfo`` into every checkpoint (``meta.dataset_meta``) and never reads it
back when testing. A test split whose folders lack a class, or a config listing the classes in another order, gives
label i to another class than the one the model learnt as i: every score is then silently wrong. ``tools/test.py``
compares the two lists and refuses a mismatch, naming both.
"""
from __future__ import annotations

from typing import Any, Sequence


def class_names(meta: Any) -> list[str] | None:
    """The ``classes`` of a dataset ``metainfo`` as a list of strings; None when there are none."""
    classes = meta.get('classes') if isinstance(meta, dict) else None
    if classes is None or isinstance(classes, str) or not isinstance(classes, Sequence) or not classes:
        return None
    return [str(name) for name in classes]


def _shown(names: list[str], limit: int = 12) -> str:
    return ', '.join(names[:limit]) + (f' ... ({len(names)} in all)' if len(names) > limit else '')


def check_checkpoint_classes(checkpoint: dict, dataset_meta: Any, filename: str, where: str) -> None:
    """ValueError when the classes ``checkpoint`` was trained on (``meta.dataset_meta.classes``) differ from
    ``dataset_meta``'s (the evaluated set's metainfo, called ``where``). Nothing is compared when either side
    lists no classes (foreign checkpoints, verification pairs)."""
    meta = checkpoint.get('meta')
    trained = class_names(meta.get('dataset_meta') if isinstance(meta, dict) else None)
    evaluated = class_names(dataset_meta)
    if trained is None or evaluated is None or trained == evaluated:
        return
    first = next((i for i, (a, b) in enumerate(zip(trained, evaluated)) if a != b), min(len(trained), len(evaluated)))
    raise ValueError(
        f'{filename} was trained on {len(trained)} classes ({_shown(trained)}) and {where} has {len(evaluated)} '
        f'({_shown(evaluated)}); they first differ at label {first}, so labels from there on would stand for '
        f'other classes. Give {where}.classes the checkpoint\'s classes in their order, or a checkpoint trained on '
        f'these classes')
