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


# mmengine's OptimWrapper passes clip_grad's keys, but 'type', to torch's clip_grad_norm_ / clip_grad_value_
CLIP_GRAD_KEYS = {'norm': ('type', 'max_norm', 'norm_type', 'error_if_nonfinite', 'foreach'),
                  'value': ('type', 'clip_value', 'foreach')}


def check_clip_grad(optim_wrapper: dict | None) -> None:
    """ValueError naming ``optim_wrapper.clip_grad`` for a key torch's clipping function does not take or a
    missing bound: a typo (``max_nrom``) passed the build and failed at the first step with a TypeError naming
    neither the config key nor the choices. Several optimizers (a dict of wrappers) are checked each."""
    if not isinstance(optim_wrapper, dict):
        return
    wrappers = {'optim_wrapper': optim_wrapper}
    if 'optimizer' not in optim_wrapper and 'type' not in optim_wrapper:  # OptimWrapperDict: name -> wrapper
        wrappers = {f'optim_wrapper.{k}': v for k, v in optim_wrapper.items() if isinstance(v, dict)}
    for where, wrapper in wrappers.items():
        clip = wrapper.get('clip_grad')
        if clip is None:
            continue
        if not isinstance(clip, dict):
            raise ValueError(f"{where}.clip_grad must be a dict such as dict(max_norm=1.0) or dict(type='value', "
                             f'clip_value=1.0); got {clip!r}')
        kind = clip.get('type', 'norm')
        if kind not in CLIP_GRAD_KEYS:
            raise ValueError(f"{where}.clip_grad.type must be 'norm' or 'value'; got {kind!r}")
        check_keys(clip, CLIP_GRAD_KEYS[kind], f'{where}.clip_grad (type {kind!r})')
        bound = 'max_norm' if kind == 'norm' else 'clip_value'
        if bound not in clip:
            raise ValueError(f'{where}.clip_grad (type {kind!r}) needs {bound}; got {dict(clip)}')
        value = clip[bound]  # None failed at the first step in torch; a negative norm bound flips the gradients
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f'{where}.clip_grad.{bound} must be a number > 0 (clip_grad=None: no clipping); '
                             f'got {value!r}')
