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


def classes_mismatch(trained_meta: Any, evaluated_meta: Any) -> tuple[list[str], list[str], int] | None:
    """(trained classes, evaluated classes, first label that differs) when two metainfos' classes disagree; None
    when they agree or either lists none. Where either side's classes are a label list's numbers
    (``classes_from_labels``: '0'..'N-1' from its largest label), the evaluated side may have fewer, not more:
    numbered labels cannot shift, and a test list may lack the highest ones."""
    trained, evaluated = class_names(trained_meta), class_names(evaluated_meta)
    if trained is None or evaluated is None or trained == evaluated:
        return None
    numbered = [bool(isinstance(m, dict) and m.get('classes_from_labels')) for m in (trained_meta, evaluated_meta)]
    if any(numbered) and len(evaluated) <= len(trained):  # numbers name positions: fewer cannot shift them
        return None
    first = next((i for i, (a, b) in enumerate(zip(trained, evaluated)) if a != b), min(len(trained), len(evaluated)))
    return trained, evaluated, first


def check_checkpoint_classes(checkpoint: dict, dataset_meta: Any, filename: str, where: str) -> None:
    """ValueError when the classes ``checkpoint`` was trained on (``meta.dataset_meta.classes``) differ from
    ``dataset_meta``'s (the evaluated set's metainfo, called ``where``). Nothing is compared when either side
    lists no classes (foreign checkpoints, verification pairs)."""
    meta = checkpoint.get('meta')
    found = classes_mismatch(meta.get('dataset_meta') if isinstance(meta, dict) else None, dataset_meta)
    if found is None:
        return
    trained, evaluated, first = found
    raise ValueError(
        f'{filename} was trained on {len(trained)} classes ({_shown(trained)}) and {where} has {len(evaluated)} '
        f'({_shown(evaluated)}); they first differ at label {first}, so labels from there on would stand for '
        f'other classes. Give {where}.classes the checkpoint\'s classes in their order, or a checkpoint trained on '
        f'these classes')


def check_split_classes(train_meta: Any, evaluated_meta: Any, where: str) -> None:
    """ValueError when a validation or test set (``where``) of a training run has other classes than the training
    set: a validation folder lacking a class gave every later label to another class, and the scores (and the best
    checkpoint chosen on them) were silently wrong."""
    found = classes_mismatch(train_meta, evaluated_meta)
    if found is None:
        return
    trained, evaluated, first = found
    raise ValueError(
        f'train_dataloader.dataset has {len(trained)} classes ({_shown(trained)}) and {where} has {len(evaluated)} '
        f'({_shown(evaluated)}); they first differ at label {first}, so its labels from there on would stand for '
        f'other classes. Give {where}.classes the training classes in their order')
