"""One deployment from config + checkpoint: build the backend, check it against torch fp32 on real inputs,
optionally evaluate both on the config's test split, and write the artefacts and a manifest atomically."""
from __future__ import annotations

import copy
import json
import os
import tempfile
from typing import Callable, Sequence

import torch
from mmengine.config import Config
from mmengine.hooks import EMAHook

from ..engine.atomic import atomic_dir, check_replaceable
from ..engine.cli import build_runner
from ..registry import HOOKS
from .backend import Backend, backend_class, build_backend
from .loading import load_task_model, real_batches
from .roi_branches import build_detector_backend
from .targets import attach, deploy_target

MANIFEST = 'deploy.json'


def deployed_before(folder: str) -> Callable[[Sequence[str]], bool]:
    """Whether ``folder``'s entries are all files that an earlier deploy wrote there (listed in its manifest), so
    that a new deploy may replace the folder whole. Anything else in it (a config or checkpoint copied in, other
    work) makes the folder someone else's."""
    def owns(names: Sequence[str]) -> bool:
        try:
            with open(os.path.join(folder, MANIFEST), encoding='utf-8') as f:
                files = json.load(f)['files']
        except (OSError, ValueError, KeyError, TypeError):
            return False
        if not isinstance(files, list):
            return False
        listed = {name for name in files if isinstance(name, str)} | {MANIFEST}
        for root, _, found in os.walk(folder):  # inside a branch folder too: a user's notes there were removed
            for name in found:
                if os.path.relpath(os.path.join(root, name), folder).replace(os.sep, '/') not in listed:
                    return False
        return set(names) <= {name.split('/')[0] for name in listed}
    return owns


def agreement(reference, output) -> dict:
    """max |a - b|, the same relative to max |a|, and the cosine between the flattened outputs."""
    refs = [reference] if isinstance(reference, torch.Tensor) else list(reference)
    outs = [output] if isinstance(output, torch.Tensor) else list(output)
    a = torch.cat([r.flatten().double() for r in refs])
    b = torch.cat([o.flatten().double() for o in outs])
    diff = (a - b).abs().max().item()
    cosine = torch.nn.functional.cosine_similarity(a, b, dim=0).item()
    return {'max_abs_diff': diff, 'max_rel_diff': diff / max(a.abs().max().item(), 1e-12), 'cosine': cosine}


def top1_agreement(model, module, backend: Backend, batches: list[torch.Tensor]) -> float:
    """Fraction of samples whose top-1 class is the same from ``backend`` as from torch fp32 ``module`` (both give
    the logits of every clip; a sample's clips are averaged as classifier ``model``'s predict does)."""
    same = total = 0
    with torch.no_grad():
        for x in batches:
            reference, deployed = module(x), backend(x)
            clips = reference.shape[0] // len(x)
            same += int((model.average_scores(reference, clips).argmax(1)
                         == model.average_scores(deployed, clips).argmax(1)).sum())
            total += len(x)
    return same / total


def is_ema_hook(hook) -> bool:
    """Whether a ``custom_hooks`` entry (config dict or hook object) is mmengine's EMAHook or a subclass."""
    kind = hook.get('type') if isinstance(hook, dict) else type(hook)
    kind = HOOKS.get(kind) if isinstance(kind, str) else kind
    return isinstance(kind, type) and issubclass(kind, EMAHook)


def evaluate(cfg: Config, checkpoint: str, backend: Backend | None = None) -> dict:
    """The config's test metrics of ``checkpoint``, run in torch or, given ``backend``, with its tensor part
    replaced by the backend (the model's own pre- and post-processing unchanged)."""
    cfg = copy.deepcopy(cfg)
    cfg.load_from, cfg.resume, cfg.launcher = checkpoint, False, 'none'
    if backend is not None:
        # EMAHook saves its average as the checkpoint's state_dict, which is what the backend was built from. Its
        # hooks would fail on the load below (it makes its copy in before_run, which test() calls later) and swap
        # the parameters of a model whose parts the backend replaced.
        cfg.custom_hooks = [h for h in cfg.get('custom_hooks') or [] if not is_ema_hook(h)]
    with tempfile.TemporaryDirectory(prefix='resbackbones-eval-') as work_dir:
        cfg.work_dir = work_dir
        # mmengine keys its logger and visualizer instances by experiment name (a timestamp by default): two
        # evaluations in one second would share the first one's (deleted) folder
        cfg.experiment_name = f'deploy-eval-{os.path.basename(work_dir)}'
        cfg.default_hooks = {**cfg.get('default_hooks', {}), 'checkpoint': None}
        runner = build_runner(cfg)
        if backend is not None:
            runner.load_or_resume()  # the checkpoint goes into the model as it is, then the backend replaces parts
            backend = CountedCalls(backend)
            attach(runner.model, backend)
        metrics = runner.test()
        if backend is not None and backend.calls == 0:  # else the "backend" figures would be torch's, unnoticed
            raise ValueError(f"{type(runner.model).__name__}'s test never called the deployed part: its predict "
                             f'does not go through what deploy replaces, so --eval cannot measure the backend')
    return {k: float(v) for k, v in metrics.items() if isinstance(v, (int, float))}


class CountedCalls:
    """A backend that counts its calls; other attributes (a detector backend's ``branches``) pass through."""

    def __init__(self, backend: Backend):
        self.backend, self.calls = backend, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.backend(*args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self.backend, name)


def deploy(cfg: Config, checkpoint: str, backend: str, precision: str = 'fp32', out: str | None = None,
           calib_batches: int = 8, run_eval: bool = False, features_only: bool = False,
           **options) -> tuple[Backend, dict]:
    """Build ``backend`` at ``precision`` for the model of ``cfg`` + ``checkpoint``; returns it and the manifest.

    int8 calibrates on ``calib_batches`` batches of the train split (test pipeline). ``run_eval`` adds the test
    metrics in torch fp32 and with the backend, and their change. ``out``: folder written atomically with the
    backend's files and ``deploy.json``. Detectors deploy backbone + neck and their RoI branches (box, mask);
    ``features_only`` keeps the branches in torch.
    """
    backend_class(backend, precision)  # a wrong name or precision fails before any work
    if out is not None:
        check_replaceable(out, deployed_before(out), '--out',
                          inputs={'config': cfg.filename, 'checkpoint': checkpoint})
    model = load_task_model(cfg, checkpoint)
    example = real_batches(cfg, model, 'test', 1)[0]
    target = deploy_target(model, example)
    if precision == 'int8':
        options['calibration'] = real_batches(cfg, model, 'train', calib_batches)
    if target.kind == 'detector' and not features_only:
        built = build_detector_backend(backend, model, target, precision, **options)
    else:
        built = build_backend(backend, target, precision, **options)
    with torch.no_grad():
        reference = target.module(target.example)
    manifest = {'config': cfg.filename, 'checkpoint': os.path.abspath(checkpoint), 'kind': target.kind,
                'example_shape': list(target.example.shape), 'torch': torch.__version__, **built.describe(),
                'agreement_with_torch_fp32': agreement(reference, built(target.example))}
    for name, branch in getattr(built, 'branches', {}).items():  # a detector's RoI branches, on their examples
        with torch.no_grad():
            expected = branch.target.module(branch.target.example)
        manifest['roi_branches'][name]['agreement_with_torch_fp32'] = agreement(expected,
                                                                                branch(branch.target.example))
    if precision == 'int8':
        manifest['calibration_inputs'] = sum(len(b) for b in options['calibration'])
    if run_eval:
        if target.kind == 'classifier':
            manifest['top1_agreement'] = top1_agreement(model, target.module, built,
                                                        real_batches(cfg, model, 'test', 10**6))
        ref_metrics, metrics = evaluate(cfg, checkpoint), evaluate(cfg, checkpoint, built)
        manifest['metrics'] = {'torch_fp32': ref_metrics, backend: metrics,
                               'change': {k: metrics[k] - ref_metrics[k] for k in ref_metrics if k in metrics}}
    if out is not None:
        with atomic_dir(out, owns=deployed_before(out), what='--out') as tmp:
            manifest['files'] = built.save(tmp) + [MANIFEST]
            with open(os.path.join(tmp, MANIFEST), 'w', encoding='utf-8') as f:
                json.dump(manifest, f, indent=1)
    return built, manifest
