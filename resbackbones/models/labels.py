"""Ground-truth class labels out of whatever form a dataloader hands them in, and back onto predictions."""
from __future__ import annotations

from collections.abc import Mapping

import torch


def gt_labels(data_samples, device: torch.device, num_classes: int | None = None,
              owner: str = 'the model') -> torch.Tensor:
    """(N,) int64 labels from a collated tensor, a list of ints/0-d tensors, a list of dicts with 'gt_label', or
    mmengine's ``pseudo_collate`` output (one dict of lists). With ``num_classes``, a label outside
    [0, num_classes) is a ValueError naming its sample's file (datasets need not know num_classes: mmaction2's and
    arcface_torch's configs do not give it, and the loss would fail with a bare index error)."""
    samples = data_samples
    if isinstance(data_samples, Mapping):
        if 'gt_label' not in data_samples:
            raise ValueError(missing_label(owner, samples, 0))
        data_samples = data_samples['gt_label']
    if isinstance(data_samples, torch.Tensor):
        if data_samples.dim() > 1 and data_samples[0].numel() != 1:  # view(-1) spread them over the batch
            raise ValueError(_not_one_class(owner, f'of shape {tuple(data_samples.shape)}',
                                            data_samples[0].numel()))
        labels = data_samples.to(device).long().view(-1)
    else:
        missing = [i for i, s in enumerate(data_samples) if isinstance(s, dict) and 'gt_label' not in s]
        if missing:
            raise ValueError(missing_label(owner, samples, missing[0]))
        values = [s['gt_label'] if isinstance(s, dict) else s for s in data_samples]
        sizes = [torch.as_tensor(v).numel() for v in values]  # int() of a vector: a bare 'only one element' error
        wide = [i for i, n in enumerate(sizes) if n != 1]
        if wide:
            raise ValueError(_not_one_class(owner, f'of {sample_source(samples, wide[0])}', sizes[wide[0]]))
        labels = torch.as_tensor([int(torch.as_tensor(v).reshape(())) for v in values], device=device)
    if num_classes is not None:
        bad = torch.nonzero((labels < 0) | (labels >= num_classes)).view(-1).tolist()
        if bad:
            raise ValueError(f'{owner}: {sample_source(samples, bad[0])} has label {int(labels[bad[0]])}, not a '
                             f'class in [0, {num_classes}) (num_classes={num_classes} in the model; {len(bad)} such '
                             f'in this batch): does num_classes match the data?')
    return labels


def _not_one_class(owner: str, which: str, values: int) -> str:
    return (f'{owner}: labels {which} hold {values} values per sample; a single-label model takes one class index '
            f'per sample (one-hot, soft or mixup labels are not taken; multi-hot ones belong to a recognizer whose '
            f'head has multi_class=True)')


def missing_label(owner: str, data_samples, index: int) -> str:
    """The message for a labelled step (loss) whose sample ``index`` carries no 'gt_label'."""
    return (f"{owner}: {sample_source(data_samples, index)} has no 'gt_label' to train on (a PackInputs whose "
            f"meta_keys leave it out? keep 'gt_label' among them)")


def gt_multi_hot(data_samples, num_classes: int, device: torch.device) -> torch.Tensor:
    """(N, num_classes) float targets from multi-hot 'gt_label' vectors (what multi_class datasets give)."""
    if isinstance(data_samples, Mapping):
        data_samples = data_samples['gt_label']
    labels = data_samples if isinstance(data_samples, torch.Tensor) else \
        [s['gt_label'] if isinstance(s, dict) else s for s in data_samples]
    rows = [torch.as_tensor(label, dtype=torch.float32).view(-1) for label in labels]
    bad = [tuple(r.shape) for r in rows if r.numel() != num_classes]
    if bad:
        raise ValueError(f'a multi-label model needs multi-hot labels of num_classes={num_classes} per sample; got '
                         f'shape {bad[0]} (is the dataset built with multi_class=True?)')
    return torch.stack(rows).to(device)


def unlabelled(data_samples) -> bool:
    """Whether a batch's data_samples are dicts (or mmengine's collated dict of lists) without 'gt_label': images
    to predict, not to score."""
    samples = isinstance(data_samples, Mapping) or (isinstance(data_samples, (list, tuple)) and bool(data_samples)
                                                     and isinstance(data_samples[0], dict))
    return samples and sample_value(data_samples, 0, 'gt_label') is None


def with_labels(preds: list[dict], data_samples, device: torch.device, num_classes: int | None = None) -> list[dict]:
    """``preds`` with each sample's 'gt_label' added when labels were given (for the evaluators): an int, or with
    ``num_classes`` (multi-label models) a multi-hot vector. Unlabelled samples (inference) add nothing."""
    if data_samples is not None and not unlabelled(data_samples):
        labels = gt_labels(data_samples, device).tolist() if num_classes is None else \
            list(gt_multi_hot(data_samples, num_classes, device))
        for pred, label in zip(preds, labels):
            pred['gt_label'] = label
    return preds


def sample_value(data_samples, index: int, key: str):
    """Sample ``index``'s ``key`` in a batch's data_samples, a list of dicts or (collated) a dict of lists; None
    where it has none."""
    if isinstance(data_samples, Mapping):  # pseudo_collate's lists, or default_collate's stacked tensors
        values = data_samples.get(key)
        indexable = isinstance(values, (list, tuple)) or (isinstance(values, torch.Tensor) and values.dim() > 0)
        return values[index] if indexable and index < len(values) else None
    if isinstance(data_samples, (list, tuple)) and index < len(data_samples) and isinstance(data_samples[index], dict):
        return data_samples[index].get(key)
    return None


def sample_source(data_samples, index: int) -> str:
    """Where sample ``index`` of a batch came from (the first of its ``SOURCE_KEYS``), for error messages."""
    for key in SOURCE_KEYS:
        value = sample_value(data_samples, index, key)
        if value:
            return str(value)
    return f'sample {index} of the batch'


SOURCE_KEYS = ('img_path', 'img_source', 'filename', 'frame_dir')  # images, .rec records, videos, frame folders
