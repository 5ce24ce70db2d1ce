"""insightface's arcface_torch configs (``config = edict(); config.network = "r50"; ...``) as mmengine configs.

An arcface_torch user points ``tools/train.py`` at one of its files as it is (``load_config`` recognises the form).
The file runs as arcface_torch runs it, over its ``configs/base.py`` defaults (written out below; easydict is not
needed), and each setting becomes the matching key of a leaf config over this repository's ArcFace bases:

- network r18/r34/r50/r100/r200 -> ``IResNet(depth)``; embedding_size; margin_list (m1, m2, m3) with scale 64,
  sample_rate and interclass_filtering_threshold -> ``PartialFCHead``; num_classes;
- optimizer 'sgd' (momentum 0.9, hard-coded there) or 'adamw', lr, weight_decay; num_epoch and warmup_epoch (a
  fraction of an epoch too) -> a linear warmup from 0 then ``PolyLR`` power 1 to 0, per iteration (its
  PolynomialLRWarmup); its clipping of the network's gradient norm to 5 (``PartGradClipHook``, as in
  configs/arcface/);
- rec (folder of train.rec/.idx and the .bin sets), batch_size per GPU, num_workers; val_targets: each .bin is
  validated and logged by its name, as arcface_torch's verification callback (none given: no validation); seed;
  frequent (log interval); output (work_dir); resume.

Settings with no counterpart here are refused by name when they change behaviour (a non-ResNet network, DALI,
gradient_acc > 1, which arcface_torch sums and mmengine would average; resume=True over arcface_torch's own
checkpoint files) and named in the one line printed on translation when they do not (fp16: pass --amp; wandb;
verbose: validation runs once per epoch).
"""
from __future__ import annotations

import ast
import os
import sys
import tempfile
import types
from pathlib import Path

from mmengine.config import Config

BASES = ('_base_/models/arcface_iresnet50.py', '_base_/datasets/ms1mv2_rec.py', '_base_/schedules/arcface_poly_20e.py',
         '_base_/default_runtime.py')
DEPTHS = {'r18': 18, 'r34': 34, 'r50': 50, 'r100': 100, 'r200': 200}
# arcface_torch's configs/base.py: the defaults every job config updates.
DEFAULTS = dict(margin_list=(1.0, 0.5, 0.0), network='r50', resume=False, save_all_states=False, output=None,
                embedding_size=512, sample_rate=1.0, interclass_filtering_threshold=0, fp16=False, batch_size=128,
                optimizer='sgd', lr=0.1, momentum=0.9, weight_decay=5e-4, verbose=2000, frequent=10, dali=False,
                dali_aug=False, gradient_acc=1, seed=2048, num_workers=2, using_wandb=False, warmup_epoch=0)


class _EasyDict(dict):
    """What arcface_torch's configs use of easydict.EasyDict: a dict with attribute access."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError as err:
            raise AttributeError(name) from err

    def __setattr__(self, name, value):
        self[name] = value


def is_arcface_torch_config(path: str) -> bool:
    """Whether ``path`` is written in arcface_torch's form: it imports easydict and assigns ``config``."""
    try:
        tree = ast.parse(Path(path).read_text(encoding='utf-8'))
    except (SyntaxError, UnicodeDecodeError, OSError):
        return False
    imports = any(isinstance(node, ast.ImportFrom) and node.module == 'easydict' for node in tree.body)
    assigns = any(isinstance(node, ast.Assign) and any(getattr(t, 'id', None) == 'config' for t in node.targets)
                  for node in tree.body)
    return imports and assigns


def read_arcface_torch_config(path: str) -> dict:
    """The job settings of ``path`` over arcface_torch's defaults, as its ``get_config`` merges them."""
    stub = types.ModuleType('easydict')
    stub.EasyDict = _EasyDict
    saved = sys.modules.get('easydict')
    sys.modules['easydict'] = stub
    try:
        namespace: dict = {'__file__': path, '__name__': 'arcface_torch_config'}
        exec(compile(Path(path).read_text(encoding='utf-8'), path, 'exec'), namespace)  # as arcface_torch does
    finally:
        if saved is None:
            del sys.modules['easydict']
        else:
            sys.modules['easydict'] = saved
    job = namespace.get('config')
    if not isinstance(job, dict):
        raise ValueError(f'{path}: an arcface_torch config must set `config = edict()`; got {type(job).__name__}')
    return {**DEFAULTS, **job}


def _require(condition: bool, path: str, message: str) -> None:
    if not condition:
        raise ValueError(f'{path}: {message}')


def leaf_config(job: dict, path: str, configs_dir: str) -> str:
    """mmengine config text over this repository's ArcFace bases that trains as the arcface_torch ``job`` does."""
    name = Path(path).stem
    _require(job['network'] in DEPTHS, path, f"network {job['network']!r} is not a ResNet; resbackbones has IResNet "
             f'{sorted(DEPTHS)}')
    _require(not job['dali'], path, 'dali=True: DALI loading is not available; set dali = False to read the .rec')
    _require(job['optimizer'] in ('sgd', 'adamw'), path, f"optimizer must be 'sgd' or 'adamw'; got "
             f"{job['optimizer']!r}")
    _require('rec' in job and 'num_classes' in job and 'num_epoch' in job, path,
             'needs config.rec, config.num_classes and config.num_epoch')
    margin_list = job['margin_list']
    _require(isinstance(margin_list, (list, tuple)) and len(margin_list) == 3 and
             all(isinstance(m, (int, float)) and not isinstance(m, bool) for m in margin_list) and
             float(margin_list[0]) == 1.0, path,
             f'margin_list must be (m1, m2, m3) with m1 = 1.0 (SphereFace\'s multiplicative margin is not provided), '
             f'e.g. (1.0, 0.5, 0.0) for ArcFace or (1.0, 0.0, 0.4) for CosFace; got {margin_list!r}')
    _require(int(job['gradient_acc']) == 1, path,
             f"gradient_acc={job['gradient_acc']}: arcface_torch sums the gradients of its micro-batches, mmengine's "
             'accumulative_counts averages them (1/gradient_acc of the update); set gradient_acc = 1 and multiply '
             'batch_size (or the number of ranks) by it instead')
    if job['resume'] and job.get('output'):
        theirs = sorted(Path(str(job['output'])).glob('checkpoint_gpu_*.pt'))
        ours = list(Path(str(job['output'])).glob('*.pth'))
        _require(not theirs or ours, path,
                 f'resume = True: {job["output"]} holds arcface_torch\'s {theirs[0].name if theirs else ""}, which '
                 'cannot be resumed here (its optimizer and Partial FC shards are in arcface_torch\'s own layout); '
                 'start a new run with resume = False (its backbone.pth / model.pt loads through load_from)')
    margins = tuple(float(m) for m in margin_list)
    # arcface_torch's CombinedMarginLoss applies m3 alone when m3 > 0, whatever m2 says; our heads apply both
    combined = len(margins) == 3 and margins[1] > 0 and margins[2] > 0
    if combined:
        margins = (margins[0], 0.0, margins[2])
    decay = f"weight_decay={job['weight_decay']!r}"
    optimizer = (f"type='SGD', lr={job['lr']!r}, momentum=0.9, {decay}" if job['optimizer'] == 'sgd' else
                 f"type='AdamW', lr={job['lr']!r}, {decay}")
    # arcface_torch counts warmup steps as num_image // total_batch * warmup_epoch: fractions of an epoch (0.04, 0.5)
    epochs, warmup = int(job['num_epoch']), float(job['warmup_epoch'])
    _require(0 <= warmup < epochs, path, f'warmup_epoch must be in [0, num_epoch={epochs}); got {warmup}')
    schedule = [f"dict(type='PolyLR', power=1.0, eta_min=0.0, by_epoch=True, begin={warmup:g}, end={epochs}, "
                f"convert_to_iter_based=True)"]
    if warmup > 0:  # arcface_torch warms up from 0; LinearLR needs a factor > 0
        schedule.insert(0, f"dict(type='LinearLR', start_factor=1e-6, by_epoch=True, begin=0, end={warmup:g}, "
                           f"convert_to_iter_based=True)")
    targets = list(job.get('val_targets') or [])
    rec, classes = str(job['rec']), int(job['num_classes'])
    bases = ', '.join(repr(os.path.join(configs_dir, b)) for b in BASES)
    lines = [
        f'# Translated from the arcface_torch config {path} (resbackbones/engine/arcface_torch_config.py).',
        f'_base_ = [{bases}]',
        f"model = dict(backbone=dict(depth={DEPTHS[job['network']]}), num_classes={classes}, flip_test=True,",
        f"             embedding=dict(embedding_dim={int(job['embedding_size'])}, dropout=0.0),",
        f"             margin_head=dict(_delete_=True, type='PartialFCHead', scale=64.0, margins={margins!r},",
        f"                              sample_rate={float(job['sample_rate'])!r},",
        f"                              interclass_filtering_threshold="
        f"{float(job['interclass_filtering_threshold'])!r}))",
        f"train_dataloader = dict(batch_size={int(job['batch_size'])}, num_workers={int(job['num_workers'])},",
        f"                        persistent_workers={int(job['num_workers']) > 0},",
        f"                        dataset=dict(data_root={rec!r}, num_classes={classes}))",
        f"optim_wrapper = dict(optimizer=dict(_delete_=True, {optimizer}))",
        f"param_scheduler = [{', '.join(schedule)}]",
        f'train_cfg = dict(max_epochs={epochs})',
        f"randomness = dict(seed={int(job['seed'])}, deterministic=False)",
        f"default_hooks = dict(logger=dict(interval={int(job['frequent'])}))",
        f"resume = {bool(job['resume'])!r}",
        "custom_hooks = [dict(type='EvalProgressHook'),  # and train_v2.py's clip_grad_norm_(backbone, 5)",
        "                dict(type='PartGradClipHook', parts=('backbone', 'embedding'), max_norm=5.0)]",
    ]
    if targets:
        bins = [os.path.join(rec, t + '.bin') for t in targets]
        lines += [f"val_dataloader = dict(dataset=dict(bin_file={bins[0] if len(bins) == 1 else bins!r}))",
                  'test_dataloader = val_dataloader']
    else:  # arcface_torch then does not validate; the base's placeholder .bin files must not stand in, for a test
        lines += ['val_dataloader = None', 'val_cfg = None', 'val_evaluator = None',  # either (tools/test.py)
                  'test_dataloader = None', 'test_cfg = None', 'test_evaluator = None']
    if job.get('output'):
        lines.append(f"work_dir = {str(job['output'])!r}")
    notes = []
    if job['fp16']:
        notes.append('fp16=True: pass --amp to tools/train.py on a GPU')
    if combined:
        notes.append(f"margin_list {tuple(job['margin_list'])}: m2 dropped, as arcface_torch applies only m3 when "
                     f"m3 > 0 ({margins!r})")
    if job.get('using_wandb'):
        notes.append('using_wandb: not supported, ignored')
    if targets:  # ms1mv3_r50.py sets the default 2000 explicitly, and arcface_torch then validates that often
        notes.append(f"verbose={job['verbose']}: validation runs once per epoch here, not every {job['verbose']} "
                     f"steps")
    lines.append(f'# {name}: ' + ('; '.join(notes) if notes else 'every setting carried over'))
    return '\n'.join(lines) + '\n'


def load_arcface_torch_config(path: str) -> Config:
    """The mmengine Config an arcface_torch config file translates to (the log names what needs a switch)."""
    configs_dir = str(Path(__file__).resolve().parents[2] / 'configs')
    if not os.path.isdir(os.path.join(configs_dir, '_base_')):
        raise ValueError(f'{path}: translating an arcface_torch config needs the repository\'s configs/ folder '
                         f'(not found at {configs_dir}); run from a checkout of resbackbones')
    text = leaf_config(read_arcface_torch_config(path), path, configs_dir)
    with tempfile.TemporaryDirectory(prefix='arcface-torch-') as tmp:
        leaf = os.path.join(tmp, Path(path).name)
        Path(leaf).write_text(text, encoding='utf-8')
        cfg = Config.fromfile(leaf)
    # printed, not logged: no run has its logger yet, and mmengine's current one may be a previous run's (its file)
    print(f'{path} is an arcface_torch config; translated: {text.splitlines()[-1][2:]}', flush=True)
    return Config(cfg.to_dict(), filename=path)
