"""SafeRunner: mmengine's Runner with checkpoints you can trust and hardware-aware distribution.

What it changes, and nothing else:

* **Checkpoints load with ``weights_only=True``**: a CheckpointCodecHook is always registered, which stores the
  message hub's HistoryBuffers and numpy values as tensors and plain Python values, and rebuilds them on load.
* **Atomic saves**: ``save_checkpoint`` lets mmengine write to a hidden temporary file in the same folder, fsyncs
  it and ``os.replace``-s it over the final name, so a kill mid-save never leaves a truncated checkpoint.
* **Sharded class centres saved whole** (Partial FC): rank 0's checkpoint holds every rank's rows and their
  optimizer state, and each rank takes its own rows back on loading (:mod:`.sharded_rows`); mmengine saved rank
  0's rows alone, and every rank resumed from them.
* **A last training batch of one sample** gets a warning before training when BatchNorm layers train, and
  BatchNorm's error on it names the loader's numbers and the fixes (:mod:`.single_sample_batch`).
* **A resumed run first validates its checkpoint's epoch** when that validation was due: the checkpoint is
  written before it, so a kill during it lost that score, and after the last epoch the final validation
  (:mod:`.resume_validation`).
* **A top-k above the model's classes** (a base config's ``Accuracy(topk=(1, 5))`` under a leaf of three classes) is
  an error naming the evaluator before training or testing starts; it failed an epoch in (:mod:`.evaluator_topk`).
* **Validation and test sets of a training run must have the training set's classes** (:mod:`.checkpoint_classes`):
  a validation folder lacking a class shifted every later label, and the best checkpoint was chosen on wrong scores.
* **A detector's num_classes must be its datasets'** (:mod:`.detector_classes`): too few failed deep in torchvision,
  too many (80 on a custom set) only in the metric at the end.
* **Typos under ``env_cfg`` and ``auto_scale_lr``** are errors naming the key (mmengine ignored them;
  :mod:`.runtime_keys`).
* **Shortened runs keep working**: a scheduler that would begin at or after the end of training is left out with a
  log line (a warmup-then-cosine config failed with ``max_epochs=1``; :mod:`.schedule_span`).
* **Auto-resume** uses :func:`latest_checkpoint`, which survives an empty or stale ``last_checkpoint`` file.
* **Foreign checkpoints** in ``load_from`` (``tools/test.py CONFIG CKPT``): a file from insightface, mmdet,
  torchvision, timm, mmpretrain or mmaction2 is converted whole (``weights.task_checkpoint``) or refused, never
  loaded in part with the rest left random.
* **Distribution**: ``env_cfg.dist_cfg.backend='auto'`` picks NCCL on CUDA and gloo on CPU; DDP works on CPU.
* **Dataloader workers stop when a run ends** (:func:`stop_loader_workers`), not seconds later in the garbage
  collector, so several runs in one process do not wait on the previous run's workers.
* **Long-term feature banks** (mmaction2's ``LFBInferHead``) are written when a test or validation epoch ends
  (``LFBWriteHook``, added when the model has such a head), not when the garbage collector frees the model.
* **SyncBN** layers fall back to BN, with one log line saying why, when they cannot synchronise.
* **Data loader workers draw anew every epoch**: a loader without its own ``worker_init_fn`` gets
  :func:`seed_worker` instead of mmengine's, which gave non-persistent workers the same random draws every epoch.
* **CPU memory kept between steps** when the config asks (``env_cfg.malloc=dict(mmap_threshold=..,
  trim_threshold=..)``, glibc's ``mallopt``; :mod:`.malloc`): freed activations stay in the heap instead of being
  faulted in again at every step.
* **An EMA kept from training to testing**: ``val()`` or ``test()`` after ``train()`` in the same runner evaluate the
  average EMAHook built during training; mmengine rebuilt it from the raw weights there, so the test after training
  silently measured the raw model. Likewise a LoggerHook ``out_dir`` keeps its path there (mmengine appended the
  work dir's name a second time).

Select it in a config with ``runner_type = 'SafeRunner'`` (done in configs/_base_/default_runtime.py).
"""
from __future__ import annotations

import functools
import inspect
import os
from typing import Callable

from mmengine.device import get_device
from mmengine.dist import broadcast, get_rank, is_distributed, master_only
from mmengine.fileio import LocalBackend, get_file_backend
from mmengine.hooks import CheckpointHook, EMAHook, LoggerHook
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from mmengine.runner.base_loop import BaseLoop
from mmengine.runner.checkpoint import _load_checkpoint_to_model
from torch import nn

from ..registry import RUNNERS
from ..weights.io import load_whole, under_state_dict
from ..weights.task_checkpoint import load_task_checkpoint
from .atomic import atomic_path, ensure_writable_dir, latest_checkpoint, remove_stale_temporaries
from .checkpoint_classes import check_checkpoint_classes, check_split_classes
from .codec_hook import CheckpointCodecHook
from .cpu_amp import ChannelsLastHook, to_channels_last
from .deferred_removal import carry_out_removals, defer_removals
from .dist import init_distributed, wrap_cpu_ddp
from .detector_classes import check_detector_classes, surplus_outputs_warning
from .evaluator_topk import check_topk
from .lfb_hook import LFBWriteHook, bank_writers
from .loader_workers import stop_loader_workers
from .malloc import set_malloc_thresholds
from .part_grad_clip import check_clip_with_sharded_rows
from .resume_checks import SCHEDULE_KEY, check_resumable, train_schedule
from .resume_origin import checkpoint_folders, forget_foreign_files
from .resume_validation import owed_validation
from .runtime_keys import check_clip_grad, check_runtime_keys, check_val_interval
from .save_best_check import check_save_best
from .schedule_span import check_iteration_spans, schedulers_in_run
from .sharded_rows import gather_full_rows, insert_full_rows, sharded_parameters, take_own_rows
from .single_sample_batch import check_batches, explain_single_sample, single_sample_warning
from .sync_bn import fallback_sync_bn
from .worker_seed import seed_worker


@RUNNERS.register_module()
class SafeRunner(Runner):
    """mmengine Runner (same arguments) with weights_only-safe, atomic checkpoints and CPU/GPU-aware DDP."""

    def __init__(self, *args, custom_hooks: list | None = None, **kwargs):
        check_checkpoint_hook(kwargs.get('default_hooks'))
        check_runtime_keys(kwargs.get('env_cfg'), kwargs.get('auto_scale_lr'))
        check_val_interval(kwargs.get('train_cfg'))
        check_clip_grad(kwargs.get('optim_wrapper'))
        work_dir = kwargs.get('work_dir', args[1] if len(args) > 1 else None)
        if isinstance(work_dir, str):
            ensure_writable_dir(work_dir)
        hooks = list(custom_hooks or [])
        if not any(_is_hook(h, CheckpointCodecHook) for h in hooks):
            hooks.append(CheckpointCodecHook())
        self._configured_out_dirs: dict[int, str] = {}  # LoggerHook's out_dir before its first before_run
        self._resuming = False
        self._resuming_optimizer = True  # resume()'s resume_optimizer while it runs
        self._resuming_schedulers = True  # and its resume_param_scheduler
        self._resumed = False  # set by resume(), cleared once training has run the validation it owes
        self._full_rows: dict = {}  # every rank's rows of sharded parameters while a checkpoint is written
        # ChannelsLastHook acts in before_run, after DDP has laid out its gradient buckets for NCHW weights; the
        # weights go channels_last before wrapping too, so that the buckets match them (no copy per bucket)
        self._channels_last = any(_is_hook(h, ChannelsLastHook) for h in hooks)
        self._malloc_message: str | None = None
        super().__init__(*args, custom_hooks=hooks, **kwargs)
        if self._malloc_message:
            self.logger.info(self._malloc_message)
        if bank_writers(self.model) and not any(isinstance(h, LFBWriteHook) for h in self.hooks):
            self.register_hook(LFBWriteHook())  # LFBInferHead's bank, written when a test epoch ends

    def setup_env(self, env_cfg: dict) -> None:
        """Initialise the process group with the automatic backend, set ``env_cfg.malloc`` (if any), then mmengine's
        set-up."""
        if self.distributed and not is_distributed():
            init_distributed(self.launcher, env_cfg.get('dist_cfg', {}))
        if env_cfg.get('malloc') is not None:
            self._malloc_message = set_malloc_thresholds(env_cfg['malloc'])
        super().setup_env(env_cfg)

    def wrap_model(self, model_wrapper_cfg: dict | None, model: nn.Module) -> nn.Module:
        """SyncBN fallback, channels_last weights if a ChannelsLastHook is configured, then DDP: mmengine's wrapper
        on CUDA, one without ``device_ids`` on CPU."""
        if is_model_wrapper(model):
            return super().wrap_model(model_wrapper_cfg, model)
        device = get_device()
        model = fallback_sync_bn(model.to(device), self.distributed, device, self.logger)
        if self._channels_last:
            to_channels_last(model)
        if self.distributed and device == 'cpu':
            if self.cfg.get('sync_bn'):
                self.logger.warning(f"cfg.sync_bn={self.cfg.sync_bn!r} ignored: SyncBatchNorm needs CUDA")
            return wrap_cpu_ddp(model, model_wrapper_cfg, self.cfg.get('find_unused_parameters', False))
        return super().wrap_model(model_wrapper_cfg, model)

    def _build_param_scheduler(self, scheduler, optim_wrapper) -> list:
        """mmengine's, without the schedulers that would begin after training ends (:mod:`.schedule_span`)."""
        built = isinstance(self._train_loop, BaseLoop)
        kept, left_out = schedulers_in_run(scheduler if isinstance(scheduler, (list, tuple)) else [scheduler],
                                           self.max_epochs if built else None, self.max_iters if built else None)
        for line in left_out:
            self.logger.info(line)
        try:  # the length mmengine converts epochs to iterations with
            epoch_length = len(self.train_dataloader) if built else None
        except TypeError:  # an iterable dataset: no length, nothing converted
            epoch_length = None
        if epoch_length:
            check_iteration_spans(kept, epoch_length)
        return super()._build_param_scheduler(kept, optim_wrapper)

    @staticmethod
    def build_dataloader(dataloader, seed: int | None = None, diff_rank_seed: bool = False):
        """mmengine's build_dataloader, with :func:`seed_worker` for the workers unless the config names a
        ``worker_init_fn`` (mmengine's default reseeds them identically every epoch)."""
        if isinstance(dataloader, dict) and 'worker_init_fn' not in dataloader and seed is not None:
            # mmengine drops its own disable_subprocess_warning key only when it supplies worker_init_fn itself
            quiet = dataloader.get('disable_subprocess_warning', False)
            if not isinstance(quiet, bool):
                raise ValueError(f'dataloader disable_subprocess_warning must be True or False; got {quiet!r}')
            dataloader = {k: v for k, v in dataloader.items() if k != 'disable_subprocess_warning'}
            dataloader['worker_init_fn'] = dict(type=functools.partial(seed_worker, rank=get_rank(), quiet=quiet))
        return Runner.build_dataloader(dataloader, seed=seed, diff_rank_seed=diff_rank_seed)

    def call_hook(self, fn_name: str, **kwargs) -> None:
        """mmengine's, with the whole matrices of row-sharded parameters put into a checkpoint once the hooks have
        seen it (``before_save_checkpoint``: after EMAHook's swap) and cut to this rank's rows after loading
        (``after_load_checkpoint``),
        ``before_train`` preceded by the one-sample batch warning and followed, after a resume, by the validation
        the checkpoint's epoch owes, and except that a second ``before_run`` (mmengine's val() and test() after
        train()) repeats nothing that must happen once:

        - an EMAHook that already holds an average is left alone: its before_run replaced the average with a copy of
          the model's current (raw) weights (a checkpoint loaded afterwards still reaches the average through the
          hook's ``after_load_checkpoint``);
        - a LoggerHook's ``out_dir`` is joined with the work dir's name from the configured value again, not from
          the already joined one (``out_dir/work/work``).
        """
        if fn_name == 'before_save_checkpoint' and self._full_rows:
            super().call_hook(fn_name, **kwargs)
            insert_full_rows(kwargs['checkpoint'], self._full_rows)  # after EMAHook's swap (see there)
            return
        if fn_name == 'after_load_checkpoint':
            take_own_rows(kwargs['checkpoint'], self.model, self.optim_wrapper)
        if fn_name == 'after_val_epoch':
            check_save_best(self._hooks, kwargs.get('metrics'))
        if fn_name == 'before_train':
            self.model.train()  # as the loop will: frozen stages' BatchNorm layers go to eval mode
            warning = single_sample_warning(self.train_dataloader, self.model)
            if warning:
                self.logger.warning(warning)
            super().call_hook(fn_name, **kwargs)
            defer_removals(self._hooks)  # after CheckpointHook.before_train has set its file backend
            self._run_owed_validation()
            return
        if fn_name != 'before_run':
            return super().call_hook(fn_name, **kwargs)
        for hook in self._hooks:
            if isinstance(hook, LoggerHook) and hook.out_dir is not None:
                hook.out_dir = self._configured_out_dirs.setdefault(id(hook), hook.out_dir)
        hooks = self._hooks
        self._hooks = [h for h in hooks if not (isinstance(h, EMAHook) and getattr(h, 'ema_model', None) is not None)]
        try:
            super().call_hook(fn_name, **kwargs)
        finally:
            self._hooks = hooks

    def _init_model_weights(self) -> None:
        """mmengine's, but for the broadcast from rank 0 after ``init_weights``, which skips row-sharded parameters
        (Partial FC's class centres): each rank holds other rows, of another count where the classes do not divide
        by the ranks (gloo aborted at start-up: '192 vs 128'), and equal counts were overwritten with rank 0's.
        A distillation teacher, loaded by ``init_weights``, has its classes checked here, before any loop."""
        model = self.model.module if is_model_wrapper(self.model) else self.model
        if not hasattr(model, 'init_weights'):
            return
        model.init_weights()
        self._check_teacher_classes()  # before the loop: train.py's one-line error, not a traceback
        local = {key for key, *_ in sharded_parameters(model)}
        for name, tensor in model.state_dict().items():
            if name not in local:
                broadcast(tensor)

    def _check_teacher_classes(self) -> None:
        """A distillation teacher (DistillClassifier) must have been trained on the training set's classes, in
        order: only their number was checked, so a teacher of other classes taught wrong labels."""
        model = self.model.module if is_model_wrapper(self.model) else self.model
        classes = getattr(model, 'teacher_classes', None)
        if classes:
            check_checkpoint_classes(dict(meta=dict(dataset_meta=dict(classes=classes))),
                                     getattr(self.train_dataloader.dataset, 'metainfo', None),
                                     f'teacher {model.teacher_checkpoint}', 'train_dataloader.dataset')

    def _run_owed_validation(self) -> None:
        """After a resume, the validation of the checkpoint's own epoch, which the killed run may not have finished
        (:mod:`.resume_validation`)."""
        resumed, self._resumed = self._resumed, False
        owed = owed_validation(self.train_loop, self.val_loop is not None) if resumed else None
        if owed:
            self.logger.info(f'resumed after {owed}: validating it first (its checkpoint was written before its '
                             f'validation, which the interrupted run may not have finished)')
            self.val_loop.run()

    def train(self) -> nn.Module:
        """mmengine's training, then the training and validation loaders' workers stop; a last batch of one sample
        that BatchNorm cannot train on is an error naming the loader's numbers (:mod:`.single_sample_batch`)."""
        if self._train_loop is not None:  # built as mmengine will, to check the dataset before anything runs
            self._train_loop = self.build_train_loop(self._train_loop)
            check_detector_classes(self.model, self._train_loop.dataloader.dataset, 'train_dataloader')
            surplus = surplus_outputs_warning(self.model, self._train_loop.dataloader.dataset, 'train_dataloader')
            if surplus:
                self.logger.warning(surplus)
            check_batches(self._train_loop.dataloader)
            check_clip_with_sharded_rows(self.model, self.cfg.get('optim_wrapper'))
        if self._val_loop is not None:
            self._val_loop = self._checked_loop(self.build_val_loop, self._val_loop, 'val')
        try:
            return super().train()
        except ValueError as err:
            loop = self._train_loop  # not built when the error came from building it
            clearer = explain_single_sample(err, loop.dataloader) if isinstance(loop, BaseLoop) else None
            if clearer is None:
                raise
            raise clearer from err
        finally:
            stop_loader_workers(self._train_loop, self._val_loop)

    def val(self) -> dict:
        """mmengine's validation, then the validation loader's workers stop."""
        if self._val_loop is not None:
            self._val_loop = self._checked_loop(self.build_val_loop, self._val_loop, 'val')
        try:
            return super().val()
        finally:
            stop_loader_workers(self._val_loop)

    def test(self) -> dict:
        """mmengine's test, then the test loader's workers stop."""
        if self._test_loop is not None:
            self._test_loop = self._checked_loop(self.build_test_loop, self._test_loop, 'test')
        try:
            return super().test()
        finally:
            stop_loader_workers(self._test_loop)

    def _checked_loop(self, build: Callable, loop, split: str) -> BaseLoop:
        """The ``split`` ('val' or 'test') loop built as mmengine will (it returns a built one as is), its evaluator
        and dataset checked against the model's and the training set's classes before anything runs
        (:mod:`.evaluator_topk`, :mod:`.detector_classes`, :mod:`.checkpoint_classes`)."""
        loop = build(loop)
        check_topk(getattr(loop, 'evaluator', None), self.model, f'{split}_evaluator',
                   isinstance(self.cfg.get(f'{split}_evaluator'), (list, tuple)))
        dataloader = getattr(loop, 'dataloader', None)
        if dataloader is not None:
            check_batches(dataloader, f'{split}_dataloader')
            check_detector_classes(self.model, dataloader.dataset, f'{split}_dataloader')
            if isinstance(self._train_loop, BaseLoop):  # scored in a training run: the training set's classes
                check_split_classes(getattr(self._train_loop.dataloader.dataset, 'metainfo', None),
                                    getattr(dataloader.dataset, 'metainfo', None), f'{split}_dataloader.dataset')
        return loop

    def save_checkpoint(self, out_dir: str, filename: str, file_client_args: dict | None = None,
                        save_optimizer: bool = True, save_param_scheduler: bool = True, meta: dict | None = None,
                        by_epoch: bool = True, backend_args: dict | None = None) -> None:
        """mmengine's save_checkpoint, with row-sharded parameters (Partial FC) gathered whole from every rank
        first (mmengine's CheckpointHook calls this on every rank), then written by rank 0, atomically on local
        disks (remote backends: mmengine's path)."""
        ema = next((h.ema_model.module for h in self.hooks
                    if isinstance(h, EMAHook) and getattr(h, 'ema_model', None) is not None), None)
        self._full_rows = gather_full_rows(self.model, self.optim_wrapper, ema)
        try:
            self._write_checkpoint(out_dir, filename, file_client_args, save_optimizer, save_param_scheduler, meta,
                                   by_epoch, backend_args)
        finally:
            self._full_rows = {}

    @master_only
    def _write_checkpoint(self, out_dir: str, filename: str, file_client_args: dict | None, save_optimizer: bool,
                          save_param_scheduler: bool, meta: dict | None, by_epoch: bool,
                          backend_args: dict | None) -> None:
        schedule = self._train_schedule()
        if schedule is not None:  # resuming checks that it goes on with the same schedule
            meta = {**(meta or {}), SCHEDULE_KEY: schedule}
        args = dict(save_optimizer=save_optimizer, save_param_scheduler=save_param_scheduler, meta=meta,
                    by_epoch=by_epoch)
        local = file_client_args is None and isinstance(get_file_backend(out_dir, backend_args=backend_args),
                                                        LocalBackend)
        if not local:
            super().save_checkpoint(out_dir, filename, file_client_args, backend_args=backend_args, **args)
            return
        os.makedirs(out_dir, exist_ok=True)
        for stale in remove_stale_temporaries(out_dir):
            self.logger.warning(f'removed {stale}, left by a process killed while saving')
        with atomic_path(os.path.join(out_dir, filename)) as tmp:
            super().save_checkpoint(out_dir, os.path.basename(tmp), backend_args=backend_args, **args)
        carry_out_removals(self._hooks, os.path.join(out_dir, filename))  # the old best / oldest kept file

    def load_checkpoint(self, filename: str, map_location: str | Callable = 'cpu', strict: bool = False,
                        revise_keys: list = [(r'^module.', '')]) -> dict:  # noqa: B006 (mmengine's default)
        """mmengine's, with errors that name the file: an unreadable one (a truncated file gave a traceback, a text
        file 'error: 101'), and a model mismatch where loading is strict: on resume (the optimizer state fits no
        other model) and where the config says ``load_strict=True`` (tools/test.py: a deeper network's
        checkpoint loaded in part and was scored, with one log line). Testing with ``load_strict``, the checkpoint's
        training classes must also be the test set's (:mod:`.checkpoint_classes`)."""
        strict = strict or self._resuming or bool(self.cfg.get('load_strict', False))
        try:  # weights_only=True set here, not left to torch's default (an environment variable turns it off)
            checkpoint = under_state_dict(load_whole(filename))
        except (FileNotFoundError, ValueError) as err:
            raise ValueError(f'{filename} is not a readable checkpoint: {" ".join(str(err).split())[:400]}') from err
        if self._resuming:
            needs = (('optimizer',) if self._resuming_optimizer else ()) + (
                ('param_schedulers',) if self._resuming_schedulers and self.param_schedulers else ())
            check_resumable(checkpoint, filename, needs, self._train_schedule())
            check_checkpoint_classes(checkpoint, getattr(self.train_dataloader.dataset, 'metainfo', None),
                                     filename, 'train_dataloader.dataset')
        if self.cfg.get('load_strict', False) and not self._resuming and isinstance(self._test_loop, BaseLoop):
            check_checkpoint_classes(checkpoint, getattr(self._test_loop.dataloader.dataset, 'metainfo', None),
                                     filename, 'test_dataloader.dataset')
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        model = self.model.module if is_model_wrapper(self.model) else self.model
        try:
            checkpoint = _load_checkpoint_to_model(model, checkpoint, strict, revise_keys=revise_keys)
        except RuntimeError as err:  # mmengine: 'The model and loaded state dict do not match exactly ...'
            if not strict or not ('state_dict' in str(err) or 'do not match exactly' in str(err)):
                raise
            raise ValueError(f'{filename} does not fit the model of the config: '
                             f'{" ".join(str(err).split())[:600]}') from err
        if self._resuming and self._resuming_optimizer and 'optimizer' in checkpoint:
            self._load_optimizer(checkpoint.pop('optimizer'), filename)  # popped: mmengine's resume skips it then
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint

    def _train_schedule(self) -> dict | None:
        """The loop kind and scheduler types checkpoints record (:func:`.resume_checks.train_schedule`); None
        before the train loop is built (testing)."""
        if not isinstance(self._train_loop, BaseLoop):
            return None
        return train_schedule(self._train_loop, self.param_schedulers)

    def _load_optimizer(self, state: dict, filename: str) -> None:
        """The optimizer state of a resumed checkpoint, with an error naming the file when it fits no optimizer
        of the config (another type: 'error: step'; other parameter groups)."""
        self.optim_wrapper = self.build_optim_wrapper(self.optim_wrapper)
        try:
            self.optim_wrapper.load_state_dict(state)
        except (KeyError, ValueError, RuntimeError, TypeError, IndexError) as err:
            optimizer = getattr(self.optim_wrapper, 'optimizer', None)
            raise ValueError(
                f"{filename}: its optimizer state does not fit the config's optimizer "
                f'({type(optimizer).__name__ if optimizer is not None else type(self.optim_wrapper).__name__}, '
                f'{len(getattr(optimizer, "param_groups", []))} parameter groups): {type(err).__name__}: '
                f'{" ".join(str(err).split())[:200]}. Resuming needs the optimizer and paramwise settings it was '
                f'trained with; to change them, start a new run with load_from={filename!r}') from err

    def resume(self, filename: str, *args, **kwargs) -> None:
        """mmengine's, loading the model strictly (see ``load_checkpoint``); resumed from another folder's
        checkpoint, the run keeps and deletes only its own files (:mod:`.resume_origin`)."""
        self._resuming = True
        arguments = inspect.signature(Runner.resume).bind(self, filename, *args, **kwargs).arguments
        self._resuming_optimizer = bool(arguments.get('resume_optimizer', True))
        self._resuming_schedulers = bool(arguments.get('resume_param_scheduler', True))
        try:
            super().resume(filename, *args, **kwargs)
        finally:
            self._resuming = False
        self._resumed = True
        if forget_foreign_files(self.message_hub, filename, checkpoint_folders(self.hooks, self.work_dir)):
            self.logger.info(f'resumed from {filename}, outside this work dir: its kept and best checkpoint files '
                             f'stay where they are (this run keeps and replaces only files it writes)')

    @master_only
    def dump_config(self) -> None:
        """mmengine's, except that an existing dump with other content is kept and this one goes beside it, named
        with the run's timestamp: tools/test.py's default work dir is the training's, whose config dump it
        replaced (with its own load_from and overrides)."""
        name = os.path.basename(self.cfg.filename) if self.cfg.filename else f'{self.timestamp}.py'
        path = os.path.join(self.work_dir, name)
        text = self.cfg.pretty_text
        if os.path.isfile(path):
            with open(path, encoding='utf-8') as f:
                if f.read() != text:
                    path = os.path.join(self.work_dir, f'{os.path.splitext(name)[0]}_{self.timestamp}.py')
        with atomic_path(path) as tmp, open(tmp, 'w', encoding='utf-8') as f:
            f.write(text)

    def load_or_resume(self) -> None:
        """Auto-resume (``resume=True`` without ``load_from``) from :func:`latest_checkpoint` of the work_dir."""
        if self._resume and self._load_from is None and not self._has_loaded:
            self._load_from = latest_checkpoint(self.work_dir)
            if self._load_from is None:
                self.logger.warning(f'resume: no checkpoint in {self.work_dir}; training from scratch')
                self._resume = False
            else:
                self.logger.info(f'resume: latest checkpoint in the work_dir is {self._load_from}')
        if not self._resume and self._load_from is not None and not self._has_loaded:
            model = self.model.module if is_model_wrapper(self.model) else self.model
            # whole for a score (tools/test.py sets load_strict); what fits for fine-tuning, as mmengine loads
            done = load_task_checkpoint(model, self._load_from, strict=bool(self.cfg.get('load_strict', False)))
            if done is not None:
                self.logger.info(done)
                self._has_loaded = True
                return
        super().load_or_resume()


def check_checkpoint_hook(default_hooks: dict | None) -> None:
    """ValueError for a ``default_hooks.checkpoint`` key CheckpointHook does not take: it passes unknown ones on to
    ``save_checkpoint``, so a typo (``max_keep_ckpt``) stopped the run at its first save, an epoch in."""
    hook = (default_hooks or {}).get('checkpoint')
    if not isinstance(hook, dict) or hook.get('type', 'CheckpointHook') not in ('CheckpointHook', CheckpointHook):
        return
    known = set(inspect.signature(CheckpointHook.__init__).parameters) - {'self', 'kwargs'}
    unknown = sorted(set(hook) - known - {'type'})
    if unknown:
        raise ValueError(f'default_hooks.checkpoint: CheckpointHook takes no {", ".join(map(repr, unknown))} '
                         f'(its arguments: {", ".join(sorted(known))})')


def _is_hook(hook, hook_type: type) -> bool:
    """``hook`` (an instance or a config dict) is a ``hook_type``."""
    return isinstance(hook, hook_type) or (isinstance(hook, dict) and hook.get('type') in (
        hook_type.__name__, hook_type))
