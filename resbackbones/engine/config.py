"""Loading configs and applying command-line overrides, with errors that name the file or key."""
from __future__ import annotations

import os
from typing import Any

from mmengine.config import Config

from .arcface_torch_config import is_arcface_torch_config, load_arcface_torch_config
from .mmaction2_unprovided import refuse_unprovided_types
from .mmpretrain_types import translate_mmpretrain_types
from .typed_dicts import typed_dicts


def dataset_chain(dataset: dict) -> list[dict]:
    """A dataset config followed by the dataset configs it wraps, outermost first: the ``dataset=`` of wrappers
    such as CachedDataset, HalfComposedFaceDataset or mmengine's RepeatDataset. The last one reads the files."""
    chain = [dataset]
    while isinstance(chain[-1].get('dataset'), dict):
        chain.append(chain[-1]['dataset'])
    return chain


def model_config(cfg: Config | dict) -> dict:
    """``cfg.model`` as mmengine's Runner builds it: a top-level ``data_preprocessor`` (mmpretrain's layout) goes
    into the model unless the model names its own. Built from ``cfg.model`` alone (deploy, the inference APIs,
    tools) the model normalised nothing where training and testing had."""
    model = cfg['model']
    top = cfg.get('data_preprocessor')
    if top is not None and isinstance(model, dict) and model.get('data_preprocessor') is None:
        return dict(model, data_preprocessor=top)
    return model


def load_config(path: str) -> Config:
    """``Config.fromfile(path)``; FileNotFoundError / ValueError name the file when it is missing or broken."""
    if not os.path.isfile(path):
        hint = ' (it is a folder)' if os.path.isdir(path) else ''
        raise FileNotFoundError(f'config file not found: {path}{hint}')
    if not path.endswith('.py'):
        raise ValueError(f'config {path}: expected an mmengine Python config (*.py)')
    if is_arcface_torch_config(path):  # insightface's edict form: translated, not executed by mmengine
        return load_arcface_torch_config(path)
    try:
        cfg = Config.fromfile(path)
    except (SyntaxError, FileNotFoundError, ImportError, KeyError, ValueError, TypeError, NameError,
            AttributeError) as err:
        raise ValueError(f'config {path} cannot be loaded: {type(err).__name__}: {err}') from err
    check_loaders(cfg, path)
    check_scope(cfg, path)
    return adopt_foreign_runtime(cfg, path)


UNRUNNABLE_SCOPES = {'mmpretrain': 'mmpretrain', 'mmcls': 'mmpretrain (mmcls)'}


def check_scope(cfg: Config, path: str) -> None:
    """ValueError naming the file when its ``default_scope`` is a project whose configs do not run here: an
    mmpretrain config failed later on its visualizer, or on its classifier's neck, after registry warnings. (An
    'mmdet' scope falls back to this project's registries, where mmdet's model names build.)"""
    scope = cfg.get('default_scope')
    if scope in UNRUNNABLE_SCOPES:
        raise ValueError(f"config {path}: default_scope {scope!r} is {UNRUNNABLE_SCOPES[scope]}'s, whose configs do "
                         f"not run here (its classifier, heads and visualizer differ); configs of mmaction2 "
                         f"(default_scope 'mmaction') and insightface's arcface_torch do. Write a config over this "
                         f"project's configs/classification (docs/training.md): its backbones take mmpretrain's "
                         f'arguments')


LOADER_KEYS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def check_loaders(cfg: Config, path: str) -> None:
    """ValueError naming the file and key when a data loader entry is not a dict (mmengine would stop later in an
    AttributeError); mmaction2's gym-limb PoseC3D config wraps its train_dataloader in a tuple by a stray comma."""
    for key in LOADER_KEYS:
        value = cfg.get(key)
        if value is not None and not isinstance(value, dict):
            hint = ' (a trailing comma after its dict(...) makes a tuple)' if isinstance(value, (tuple, list)) else ''
            raise ValueError(f'config {path}: {key} must be a dict(batch_size=..., dataset=...); got a '
                             f'{type(value).__name__}{hint}')


FOREIGN_SCOPES = {'mmaction': 'mmaction2'}  # default_scope -> the project whose configs carry it


OWN_SCOPES = ('mmaction', 'mmdet')  # packages whose types this project builds under their names (AVA's FastRCNN)


def drop_own_scopes(node: Any) -> int:
    """Strip, in place, 'mmaction.' / 'mmdet.' from types and ``_scope_='mmaction'|'mmdet'`` from dicts under
    ``node`` (mmaction2's AVA configs build mmdet's FastRCNN around ``'mmaction.ResNet3dSlowOnly'``); returns how many
    were dropped. Other scopes (mmcls ...) are left for their own translation."""
    dropped = 0
    for _, child, kind in typed_dicts(node):
        if kind.split('.', 1)[0] in OWN_SCOPES and '.' in kind:
            child['type'] = kind.split('.', 1)[1]
            dropped += 1
        if child.get('_scope_') in OWN_SCOPES:
            del child['_scope_']
            dropped += 1
    return dropped


def adopt_foreign_runtime(cfg: Config, path: str) -> Config:
    """Run a config written for mmaction2 (``default_scope='mmaction'``) on this project's registries, in place.

    Its types are ours under the same names, but its scope would send every build to mmaction2's (absent)
    registries. So: the scope becomes 'resbackbones'; the runner is SafeRunner unless the config names one (its
    checkpoints then load with weights_only=True); ``dist_cfg.backend='nccl'`` becomes 'auto' (NCCL on GPUs, gloo
    on CPUs, where NCCL cannot run); mmpretrain's types in it (``'mmcls.ImageNet'`` ...: OmniSource's image
    source) become ours (``mmpretrain_types``). The changes are printed in one line. A type this project
    deliberately does not build (X3D, transformers, skeleton GCNs ...) is a ValueError saying so
    (``mmaction2_unprovided``). Other configs are returned untouched.
    """
    project = FOREIGN_SCOPES.get(cfg.get('default_scope'))
    if project is None:
        return cfg
    scoped = drop_own_scopes(cfg._cfg_dict)
    refuse_unprovided_types(cfg._cfg_dict, os.path.basename(path))
    changes = [f"default_scope {cfg.default_scope!r} -> 'resbackbones'"]
    if scoped:
        changes.append(f"{scoped} 'mmaction.'/'mmdet.' type scopes dropped (ours under the same names)")
    cfg.default_scope = 'resbackbones'
    if 'runner_type' not in cfg:
        cfg.runner_type = 'SafeRunner'
        changes.append("runner_type -> 'SafeRunner'")
    dist_cfg = cfg.get('env_cfg', {}).get('dist_cfg', {})
    if dist_cfg.get('backend') == 'nccl':
        dist_cfg['backend'] = 'auto'
        changes.append("env_cfg.dist_cfg.backend 'nccl' -> 'auto'")
    rewrites = [line.split(': ', 1)[1] for line in translate_mmpretrain_types(cfg._cfg_dict)]
    changes += [f'{rewrite} (x{rewrites.count(rewrite)})' for rewrite in dict.fromkeys(rewrites)]
    # printed, not logged: no run has its logger yet, and mmengine's current one may be a previous run's (its file)
    print(f'{path} is a {project} config; running it here with {", ".join(changes)}', flush=True)
    return cfg


def _child(node: Any, part: str) -> tuple[bool, Any]:
    """(found, value) of one dotted-key part: a dict key, or an index >= 0 into a list (what mmengine's merge can
    set: a negative index failed there with a bare TypeError, a tuple's item became a dict)."""
    if isinstance(node, dict):
        return (part in node, node.get(part))
    if isinstance(node, list) and part.isdigit() and int(part) < len(node):
        return True, node[int(part)]
    return False, None


def _item_error(key: str, parent: str, node: list | tuple) -> str:
    hint = f'give a tuple whole, e.g. {parent}=(...)' if isinstance(node, tuple) else \
        f'e.g. {parent}.0.{key.rsplit(".", 1)[-1]}=...'
    return (f'--cfg-options {key}: {parent} is a {type(node).__name__} of {len(node)}; only list items at an index '
            f'0..{len(node) - 1} can be set one by one ({hint})')


def check_cfg_options(cfg: Config, options: dict) -> None:
    """Reject override keys whose top-level key or dotted parent is not in ``cfg`` (a typo would be ignored).

    ``a=1`` needs ``a`` in the config, or to be a key the runner reads (``work_dir``, ``launcher`` ...:
    ``RUNNER_KEYS``) that the file leaves to its default; ``a.b.c=1`` needs ``a.b`` (a dict, or a list indexed by a
    number) to exist; ``c`` itself may be new, as mmengine's merge allows. KeyError names the key and the missing
    part.
    """
    where = f' of {cfg.filename}' if cfg.filename else ''
    for key in options:
        parts = key.split('.')
        if len(parts) == 1 and key in RUNNER_KEYS:
            continue
        node: Any = cfg._cfg_dict if isinstance(cfg, Config) else cfg
        needed = parts if len(parts) == 1 else parts[:-1]
        for depth, part in enumerate(needed):
            found, child = _child(node, part)
            if not found:
                path = '.'.join(parts[:depth + 1])
                known = sorted(node) if isinstance(node, dict) else f'a {type(node).__name__}'
                if depth == 0:
                    raise KeyError(f'--cfg-options {key}: {part!r} is not a top-level key{where} '
                                   f'(top-level keys: {", ".join(known)})')
                if isinstance(node, tuple) or (isinstance(node, list) and not part.isdigit()):
                    raise KeyError(_item_error(key, '.'.join(parts[:depth]), node))
                raise KeyError(f'--cfg-options {key}: {path!r} does not exist in the config{where} '
                               f'({".".join(parts[:depth])} has: {known})')
            node = child
        if len(parts) > 1 and (isinstance(node, tuple) or (isinstance(node, list) and not parts[-1].isdigit())):
            raise KeyError(_item_error(key, '.'.join(parts[:-1]), node))
        if len(parts) > 1 and isinstance(node, list):  # mmengine merges a dict into a dict item, nothing else
            index, parent = int(parts[-1]), '.'.join(parts[:-1])
            item = node[index] if index < len(node) else None
            if not isinstance(item, dict) or not isinstance(options[key], dict):
                what = f'its item {index} is {item!r}' if index < len(node) else f'it has {len(node)} items'
                raise KeyError(f'--cfg-options {key}: {parent} is a list and {what}; only a dict item can be '
                               f'changed one by one, with a dict (e.g. {parent}.{index}.KEY=...). Give the list '
                               f'whole instead: {parent}=[...]')
        if len(parts) > 1 and not isinstance(node, (dict, list, tuple)):
            raise KeyError(f'--cfg-options {key}: {".".join(parts[:-1])!r} is a {type(node).__name__}, '
                           f'not a dict, so it has no key {parts[-1]!r}')


# Top-level keys the runner (mmengine's from_cfg and SafeRunner) and this project's tools read; any other top-level
# key is a variable of the config file, whose value the file already copied where it used it.
RUNNER_KEYS = frozenset((
    'model', 'work_dir', 'train_dataloader', 'val_dataloader', 'test_dataloader', 'train_cfg', 'val_cfg', 'test_cfg',
    'auto_scale_lr', 'optim_wrapper', 'param_scheduler', 'val_evaluator', 'test_evaluator', 'default_hooks',
    'custom_hooks', 'data_preprocessor', 'load_from', 'resume', 'launcher', 'env_cfg', 'log_processor',
    'log_level', 'visualizer', 'default_scope', 'randomness', 'experiment_name', 'runner_type', 'model_wrapper_cfg',
    'find_unused_parameters', 'sync_bn', 'custom_imports', 'activation_checkpointing', 'efficient_conv_bn_eval',
    'compile', 'strategy', 'dist_params', 'show_hook', 'load_strict'))  # show_hook: test.py's --show-dir;
# load_strict: SafeRunner's strict loading (tools/test.py sets it)


def _copied_into(cfg_dict: dict, value: Any) -> str | None:
    """A dotted path under the runner's keys whose value equals ``value`` (a top-level variable the file copied),
    of the same type. Bare numbers, flags and None are not looked for: equal ones sit in any config by chance
    (``True == 1`` named a topk as where a flag was copied, 10 a max_epochs), so for those the caller warns."""
    if value is None or isinstance(value, (bool, int, float)):
        return None

    def walk(node: Any, path: str) -> str | None:
        if type(node) is type(value) and node == value and path.count('.') >= 1:
            return path
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, (list, tuple)) else ()
        for key, child in items:
            found = walk(child, f'{path}.{key}')
            if found:
                return found
        return None
    for key in RUNNER_KEYS & set(cfg_dict):
        found = walk(cfg_dict[key], key)
        if found:
            return found
    return None


def check_variable_overrides(cfg: Config, options: dict) -> None:
    """A ``--cfg-options`` key under a top-level variable of the file (``data_root``, ``train_pipeline``) changes
    nothing the runner reads: the file copied the value when it was read. KeyError where the copy is found (say
    where to set it), else a printed warning."""
    for key in options:
        top = key.split('.')[0]
        if top in RUNNER_KEYS:
            continue
        copy_at = _copied_into(cfg._cfg_dict, cfg._cfg_dict.get(top))
        if copy_at is not None:
            raise KeyError(f'--cfg-options {key}: {top!r} is a variable of the config file, already copied into '
                           f'{copy_at} (and maybe elsewhere) when the file was read, so this would change nothing; '
                           f'set the key there instead')
        print(f'warning: --cfg-options {key}: {top!r} is not read by the runner; if the config file used it to '
              f'build other entries, they keep its old value', flush=True)


def merge_cfg_options(cfg: Config, options: dict | None) -> Config:
    """Check then merge ``--cfg-options`` into ``cfg`` (in place); returns ``cfg``."""
    if options:
        check_cfg_options(cfg, options)
        check_variable_overrides(cfg, options)
        cfg.merge_from_dict(options)
        check_loaders(cfg, f'{cfg.filename or "given"} with --cfg-options')  # a list given whole stopped in mmengine
    return cfg


def default_work_dir(config_path: str) -> str:
    """mmdet's default: ./work_dirs/<config file name without .py>."""
    return os.path.join('work_dirs', os.path.splitext(os.path.basename(config_path))[0])

