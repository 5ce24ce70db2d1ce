"""The keys of ``env_cfg`` and ``auto_scale_lr``, checked: mmengine reads the ones it knows with ``.get`` and
ignores the rest, so a typo (``env_cfg.cudnn_benchmrk=True``, ``auto_scale_lr.enabel=True``) changed nothing
without a word, and ``--cfg-options`` accepts a new last key on purpose (``model.backbone.frozen_stages=2``)."""
from __future__ import annotations

# mmengine's Runner.setup_env reads these; 'malloc' is SafeRunner's (glibc mallopt thresholds)
ENV_CFG_KEYS = ('cudnn_benchmark', 'dist_cfg', 'malloc', 'mp_cfg', 'resource_limit')
# mmengine's Runner.scale_lr reads these
AUTO_SCALE_LR_KEYS = ('base_batch_size', 'enable')


def check_keys(section: dict | None, known: tuple[str, ...], where: str) -> None:
    """ValueError naming the keys of ``section`` (a config dict called ``where``) that are not in ``known``."""
    if section is None:
        return
    if not isinstance(section, dict):
        raise ValueError(f'{where} must be a dict of some of {list(known)}; got {section!r}')
    unknown = sorted(set(section) - set(known))
    if unknown:
        raise ValueError(f'{where}: unknown key(s) {", ".join(map(repr, unknown))}; expected some of {list(known)}')


def check_runtime_keys(env_cfg: dict | None, auto_scale_lr: dict | None) -> None:
    """Check the keys of a runner's ``env_cfg`` and ``auto_scale_lr``; with ``auto_scale_lr.enable`` true, its
    ``base_batch_size`` must be given (mmengine asserted, a traceback)."""
    check_keys(env_cfg, ENV_CFG_KEYS, 'env_cfg')
    check_keys(auto_scale_lr, AUTO_SCALE_LR_KEYS, 'auto_scale_lr')
    if auto_scale_lr and auto_scale_lr.get('enable') and not isinstance(auto_scale_lr.get('base_batch_size'), int):
        raise ValueError(f"auto_scale_lr.enable is true but base_batch_size is "
                         f"{auto_scale_lr.get('base_batch_size')!r}; expected the total batch size (an integer) "
                         f"the config's lr was tuned for")


def check_val_interval(train_cfg: dict | None) -> None:
    """ValueError when ``train_cfg.val_interval`` is not an integer >= 1: 0 (a plausible 'no validation') trained a
    whole epoch and then stopped in mmengine's loop on a ZeroDivisionError."""
    interval = (train_cfg or {}).get('val_interval', 1)
    if isinstance(interval, bool) or not isinstance(interval, int) or interval < 1:
        raise ValueError(f'train_cfg.val_interval must be an integer >= 1; got {interval!r} (to train without '
                         f'validation set val_dataloader, val_cfg and val_evaluator to None)')
