"""``load_pretrained``: read a checkpoint, map it onto a backbone or classifier, and load it all or nothing."""
from __future__ import annotations

import dataclasses
import logging
import os
from collections import Counter
from typing import Mapping

import torch
from mmengine.logging import print_log
from torch import nn

from .align import align_keys, shortcut_forms
from .factorise import factorise_2d
from .fused import pad_fused_inputs
from .inflate import can_inflate, inflate_conv
from .io import Checkpoint, read_checkpoint
from .report import SHOWN, LoadReport
from .sources import Split, check_source, detect_source, split_keys
from .stem import adapt_input_conv, adaptation_rule, can_adapt
from .torchvision_video import to_core_names

COUNTER = 'num_batches_tracked'  # BN step counter: never required, often absent (FrozenBN, old files)


def _target_prefixes(model: nn.Module) -> tuple[str, str | None]:
    """(backbone prefix, head prefix) in the model's state dict: ('', None) for a bare backbone."""
    if isinstance(getattr(model, 'backbone', None), nn.Module):
        head = getattr(model, 'head', None)
        return 'backbone.', 'head.' if isinstance(getattr(head, 'fc', None), nn.Module) else None
    return '', None


def covers_whole(model: nn.Module) -> bool:
    """Whether ``load_pretrained`` loads every part of ``model`` a classifier file has: backbone and ``head.fc``."""
    return _target_prefixes(model)[1] is not None


def _under(state: Mapping[str, torch.Tensor], prefix: str | None) -> dict[str, torch.Tensor]:
    if prefix is None:
        return {}
    return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}


def _select_prefix(ckpt: Checkpoint, prefix: str) -> tuple[Checkpoint, list[tuple[str, str]]]:
    """Keep the keys under ``prefix`` (mmengine's Pretrained ``prefix``), stripped; report the others as ignored.
    'backbone' means 'backbone.', as in mmengine (else every kept key would start with a dot)."""
    prefix = prefix if prefix.endswith('.') else f'{prefix}.'
    kept = _under(ckpt.state, prefix)
    if not kept:
        raise ValueError(f'prefix {prefix!r}: no key of {ckpt.origin} starts with it '
                         f'(first keys: {list(ckpt.state)[:SHOWN]})')
    others = [(k, f'outside prefix {prefix!r}') for k in ckpt.state if not k.startswith(prefix)]
    return dataclasses.replace(ckpt, state=kept), others


def _shape_error(report: LoadReport, model: nn.Module) -> ValueError:
    shown = '; '.join(f'{k}: checkpoint {tuple(c)} vs model {tuple(m)}' for k, c, m in report.mismatched[:SHOWN])
    return ValueError(f'{report.checkpoint} was saved from another architecture than this '
                      f'{type(model).__name__}: {len(report.mismatched)} backbone tensors differ in shape ({shown}). '
                      'Check depth, widths, groups and in_channels. The model was not changed.')


def _map_backbone(split: Split, bb_target: Mapping[str, torch.Tensor], bb_prefix: str, backbone: nn.Module,
                  report: LoadReport) -> dict[str, torch.Tensor]:
    """Backbone tensors keyed as in the model; fills the report's unexpected/ignored/adapted/mismatched/notes.

    Keys of stages the backbone did not build (``unbuilt_stages``: out_indices ends before them) are ignored.
    """
    unbuilt = getattr(backbone, 'unbuilt_stages', ())
    state, old_of, report.notes = align_keys(split.backbone, bb_target, shortcut_forms(backbone))
    state, came_from, factorised = factorise_2d(state, backbone)
    old_of = {k: old_of[came_from[k]] for k in state}
    if factorised:
        report.adapted.append(f'{factorised} 2D convs factorised into (2+1)D (spatial conv = the 2D kernel, '
                              'temporal conv = identity; see weights/factorise.py)')
    new, inflated, padded = {}, [], 0
    for key, value in state.items():
        ckpt_key, want = split.origin[old_of[key]], bb_target.get(key)
        if key.split('.', 1)[0] in unbuilt:
            report.ignored.append((ckpt_key, 'stage not built: out_indices ends before it'))
            continue
        widened = None if want is None else pad_fused_inputs(key, value, want.shape, backbone)
        if widened is not None:
            value, padded = widened, padded + 1
        planar_channels = None  # a 2D kernel's input channels, before inflation hides that it was 2D
        if want is not None and can_inflate(value.shape, want.shape):
            planar_channels = value.shape[1]
            value = inflate_conv(value, want.shape[2])
            inflated.append(want.shape[2])
        if want is None:
            if key.endswith(COUNTER):
                report.ignored.append((ckpt_key, 'batch-norm counter the target has no slot for'))
            else:
                report.unexpected.append(ckpt_key)
        elif value.shape == want.shape:
            new[bb_prefix + key] = value
        elif can_adapt(key, value.shape, want.shape) and planar_channels in (None, 3):
            # an inflated grey 2D kernel passed as MedicalNet's single-channel 3D one: a grey 2D file stays a mismatch
            new[bb_prefix + key] = adapt_input_conv(value, want.shape[1])
            rule = adaptation_rule(value.shape[1], want.shape[1])
            report.adapted.append(f'{bb_prefix + key}: {value.shape[1]} -> {want.shape[1]} input channels ({rule})')
        else:
            report.mismatched.append((bb_prefix + key, tuple(value.shape), tuple(want.shape)))
    if padded:
        report.adapted.append(f'{padded} first-block convs take lateral (fused) channels: zero weights for them, '
                              'as mmaction2 (see weights/fused.py)')
    report.from_2d = factorised + len(inflated)
    if inflated:
        frames = ', '.join(f'{n} x t={t}' for t, n in sorted(Counter(inflated).items()))
        report.adapted.append(f'{len(inflated)} conv kernels inflated 2D -> 3D (I3D: repeated over t frames, '
                              f'divided by t): {frames}')
    report.missing = [bb_prefix + k for k in bb_target if k not in state and not k.endswith(COUNTER)]
    return new


def _map_head(split: Split, head_target: Mapping[str, torch.Tensor], head_prefix: str | None,
              report: LoadReport) -> dict[str, torch.Tensor]:
    """Classifier tensors keyed as in the model; one of another num_classes is skipped, as fine-tuning expects."""
    new = {}
    for key, value in split.head.items():
        ckpt_key = split.head_origin[key]
        if head_prefix is None:
            report.ignored.append((ckpt_key, 'classifier head; the target is a backbone'))
        elif key not in head_target:
            report.unexpected.append(ckpt_key)
        elif value.shape == head_target[key].shape:
            new[head_prefix + key] = value
        else:
            report.mismatched.append((head_prefix + key, tuple(value.shape), tuple(head_target[key].shape)))
    report.missing += [head_prefix + k for k in head_target if k not in split.head and not k.endswith(COUNTER)]
    return new


def _map_parts(split: Split, target: Mapping[str, torch.Tensor], report: LoadReport) -> dict[str, torch.Tensor]:
    """Tensors of modules between backbone and head (mmaction2's ``neck.``), keyed as in the model; a model without
    such a module ignores them; the model's keys under a prefix the checkpoint has but lacks are missing."""
    new, prefixes = {}, {key.split('.', 1)[0] + '.' for key in split.parts}
    for key, value in split.parts.items():
        prefix = key.split('.', 1)[0] + '.'
        if key in target and value.shape == target[key].shape:
            new[key] = value
        elif key in target:
            raise ValueError(f'{report.checkpoint}: {key} has shape {tuple(value.shape)}, the model\'s '
                             f'{tuple(target[key].shape)}: its {prefix[:-1]} was built with other channels. The model '
                             'was not changed.')
        elif any(k.startswith(prefix) for k in target):
            report.unexpected.append(key)
        else:
            report.ignored.append((key, f'{prefix[:-1]}: the model has none'))
    report.missing += [k for k in target if k.startswith(tuple(prefixes)) and k not in split.parts
                       and not k.endswith(COUNTER)]
    return new


def _partial_load_warning(report: LoadReport) -> str | None:
    """One line for a load that left keys out: logged as a WARNING, since a partly initialised model otherwise
    looks, in the log, like a clean load."""
    if not (report.missing or report.unexpected or report.mismatched or report.untouched):
        return None
    line = (f'partial load from {report.checkpoint} (source {report.source}): {len(report.missing)} model keys '
            f'missing, kept as initialised {report.missing[:SHOWN]}; {len(report.unexpected)} checkpoint keys '
            f'unexpected, not loaded {report.unexpected[:SHOWN]}')
    if report.mismatched:  # a classifier of another num_classes: fine-tuning, but its head starts afresh
        line += (f'; {len(report.mismatched)} of another shape, kept as initialised '
                 f'{[f"{k}: checkpoint {a} vs model {b}" for k, a, b in report.mismatched[:SHOWN]]}')
    if report.untouched:
        line += f'; {len(report.untouched)} model keys not in the file {report.untouched[:SHOWN]}'
    return line + ('. Pass strict=True to refuse such a file.' if report.missing or report.unexpected else '.')


def log_report(report: LoadReport) -> None:
    """Print ``report`` through mmengine's logger, and a WARNING line when it left keys out."""
    print_log(str(report), logger='current')
    warning = _partial_load_warning(report)
    if warning:
        print_log(warning, logger='current', level=logging.WARNING)


def load_pretrained(model: nn.Module, checkpoint: str | os.PathLike | Mapping | Checkpoint,
                    source: str | None = None, strict: bool = False, prefix: str | None = None,
                    log: bool = True) -> LoadReport:
    """Load a torchvision (image or video), timm, mmpretrain, mmdet, mmaction2 or native checkpoint into a backbone or
    classifier.

    Args:
        model: a backbone (keys ``conv1``/``stem``, ``layerN``) or a model with ``backbone`` and ``head.fc``.
        checkpoint: a local file (read with ``weights_only=True``), an already-loaded (state) dict, or a
            ``Checkpoint`` from ``read_checkpoint`` (messages then name its file).
        source: the format, one of ``sources.SOURCES``; None detects it from the keys.
        strict: also raise when a backbone key is missing or unexpected (the classifier head stays lenient:
            another num_classes is the usual fine-tuning case).
        prefix: keep only checkpoint keys under this prefix, stripped (mmengine's ``Pretrained`` init_cfg).
        log: print the report (and the partial-load WARNING); callers that complete the report log it themselves.

    Returns the LoadReport, also printed through mmengine's logger, plus a WARNING line when keys are missing or
    unexpected. Raises ValueError, with the model left untouched, when backbone shapes differ (another
    architecture), when a shortcut is ResNet-C in one and ResNet-D in the other, under ``strict``, or when no
    backbone tensor matches.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f'model must be a torch nn.Module; got {type(model).__name__}')
    ckpt = read_checkpoint(checkpoint, mmap=True)  # tensors are copied into the model
    name, evidence = (check_source(source), '') if source is not None else detect_source(ckpt)
    outside: list[tuple[str, str]] = []
    if prefix:
        ckpt, outside = _select_prefix(ckpt, prefix)
    split = split_keys(ckpt, 'native' if prefix else name)  # keys under a prefix are flat whatever the source
    bb_prefix, head_prefix = _target_prefixes(model)
    target = model.state_dict()
    if name == 'torchvision_video':
        split = to_core_names(split, _under(target, bb_prefix))
    report = LoadReport(ckpt.origin, name, evidence, ignored=outside + split.ignored)

    backbone = model.backbone if bb_prefix else model
    try:
        new = _map_backbone(split, _under(target, bb_prefix), bb_prefix, backbone, report)
    except ValueError as err:  # align and factorise name the key: add the file, for configs with several
        if ckpt.origin in str(err):
            raise
        raise ValueError(f'{ckpt.origin}: {err}') from None
    if report.mismatched:
        raise _shape_error(report, model)
    if strict and (report.missing or report.unexpected):
        raise ValueError(f'strict load of {ckpt.origin}: {len(report.missing)} backbone keys missing '
                         f'{report.missing[:SHOWN]}, {len(report.unexpected)} unexpected '
                         f'{report.unexpected[:SHOWN]}. The model was not changed.')
    if not new:
        raise ValueError(f'nothing in {ckpt.origin} (source {name!r}) matches the backbone of '
                         f'{type(model).__name__}: checkpoint keys {list(ckpt.state)[:SHOWN]}, model keys '
                         f'{list(target)[:SHOWN]}')
    new.update(_map_head(split, _under(target, head_prefix), head_prefix, report))
    new.update(_map_parts(split, target, report))
    accounted = set(new) | set(report.missing) | {key for key, _, _ in report.mismatched}
    report.untouched = [k for k in target if k not in accounted and not k.endswith(COUNTER)]
    model.load_state_dict({**target, **new})  # one call, after every check: all or nothing
    report.loaded = len(new)
    if log:
        log_report(report)
    return report
