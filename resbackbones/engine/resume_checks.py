"""What a checkpoint must hold to be resumed, checked before mmengine reads it."""
from __future__ import annotations

import logging

from mmengine.logging import print_log


def check_resumable(checkpoint: dict, filename: str) -> None:
    """ValueError naming ``filename`` when it lacks what resuming reads (a weights-only file gave 'error: meta');
    drops ``meta['config']``, which mmengine's resume would run as Python (``Config.fromstring``) only to read
    ``gpu_ids``: a string passes ``weights_only``, so a downloaded checkpoint could carry code there."""
    meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
    missing = [name for name, present in (('meta.epoch', isinstance(meta, dict) and 'epoch' in meta),
                                          ('meta.iter', isinstance(meta, dict) and 'iter' in meta),
                                          ('message_hub', 'message_hub' in checkpoint)) if not present]
    if missing:
        raise ValueError(f'{filename} cannot be resumed: it holds no training state ({", ".join(missing)} missing; '
                         f'weights only?). To start a new run from its weights, give it as load_from')
    if 'config' in meta:
        meta.pop('config')
        print_log(f"{filename}: meta['config'] (an mmcv 1.x config text) is ignored on resume; it is never run as "
                  f'code, so its gpu_ids are not compared with this run\'s', logger='current', level=logging.WARNING)
