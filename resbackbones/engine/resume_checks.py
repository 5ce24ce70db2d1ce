"""What a checkpoint must hold to be resumed, checked before mmengine reads it."""
from __future__ import annotations

import logging
from typing import Any

from mmengine.logging import print_log
from mmengine.runner import EpochBasedTrainLoop

SCHEDULE_KEY = 'train_schedule'  # in a checkpoint's meta: the loop kind and scheduler types it was trained with


def train_schedule(train_loop: Any, param_schedulers: Any) -> dict:
    """What a resumed run must share with the run that saved: epoch- or iteration-based loop, the types of the
    lr/momentum schedulers in order (mmengine pairs them by position, whatever their types) and, for an epoch loop
    with schedulers counted in iterations (``convert_to_iter_based``), the iterations per epoch: the saved
    schedulers' begin and end are iterations of the saving run's epochs, so on more ranks or larger batches the lr
    reached its end early and stayed there. Plain values, so that checkpoints stay loadable with
    ``weights_only=True``."""
    def names(schedulers) -> list[str]:
        return [type(s).__name__ for s in schedulers or ()]
    if isinstance(param_schedulers, dict):
        schedulers = {str(k): names(v) for k, v in param_schedulers.items()}
        built = [s for group in param_schedulers.values() for s in group or ()]
    else:
        schedulers = names(param_schedulers)
        built = list(param_schedulers or ())
    epoch_loop = isinstance(train_loop, EpochBasedTrainLoop)
    in_iterations = any(getattr(s, 'by_epoch', True) is False for s in built)
    return {'loop': 'epoch' if epoch_loop else 'iteration', 'param_schedulers': schedulers,
            'iters_per_epoch': len(train_loop.dataloader) if epoch_loop and in_iterations else None}


def check_resumable(checkpoint: dict, filename: str, needs: tuple[str, ...] = (),
                    schedule: dict | None = None) -> None:
    """ValueError naming ``filename`` when it lacks what resuming reads (a weights-only file gave 'error: meta'),
    lacks an entry of ``needs`` (the optimizer or scheduler state this run resumes: a best checkpoint has neither,
    and mmengine silently started momentum and the lr schedule afresh), or was saved by another ``schedule``
    (``train_schedule`` of this run: an iteration-based checkpoint resumed by an epoch-based config froze the lr,
    another scheduler list got the states of others).

    Drops ``meta['config']``, which mmengine's resume would run as Python (``Config.fromstring``) only to read
    ``gpu_ids``: a string passes ``weights_only``, so a downloaded checkpoint could carry code there."""
    meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
    missing = [name for name, present in (('meta.epoch', isinstance(meta, dict) and 'epoch' in meta),
                                          ('meta.iter', isinstance(meta, dict) and 'iter' in meta),
                                          ('message_hub', 'message_hub' in checkpoint)) if not present]
    if missing:
        raise ValueError(f'{filename} cannot be resumed: it holds no training state ({", ".join(missing)} missing; '
                         f'weights only?). To start a new run from its weights, give it as load_from')
    lacking = [name for name in needs if name not in checkpoint]
    if lacking:
        raise ValueError(f'{filename} cannot be resumed: it holds no {" and no ".join(lacking)} state (a best '
                         "checkpoint, or one saved with save_optimizer=False / save_param_scheduler=False), so "
                         'momentum and the lr schedule would start afresh. Resume from an epoch_/iter_ checkpoint, '
                         'or start a new run from its weights with load_from')
    saved = meta.get(SCHEDULE_KEY)
    if schedule is not None and isinstance(saved, dict):
        for key, what in (('loop', 'training loop'), ('param_schedulers', 'param_scheduler list')):
            if key in saved and saved[key] != schedule[key]:
                raise ValueError(f'{filename} was saved by a run with another {what} ({saved[key]}; this config: '
                                 f'{schedule[key]}): mmengine would pair its state with this schedule silently. '
                                 'Resume with the schedule it was trained with, or start a new run with load_from')
        was, now = saved.get('iters_per_epoch'), schedule.get('iters_per_epoch')
        if was is not None and now is not None and was != now:
            raise ValueError(f'{filename} was saved by a run of {was} iterations per epoch; this run has {now} '
                             '(another number of processes, batch size or dataset): its lr schedule, counted in '
                             'iterations (convert_to_iter_based), would end early or late. Resume with the '
                             'processes and batch size it was trained with, or start a new run with load_from')
    if 'config' in meta:
        meta.pop('config')
        print_log(f"{filename}: meta['config'] (an mmcv 1.x config text) is ignored on resume; it is never run as "
                  f'code, so its gpu_ids are not compared with this run\'s', logger='current', level=logging.WARNING)
