"""What tools/train.py and tools/test.py share: argument parsing, turning arguments into a config, and
reporting a bad input as one line on stderr with exit status 2 instead of a traceback.
"""
from __future__ import annotations

import argparse
import gc
import os
import sys
from typing import Callable, NoReturn, Sequence

import torch.distributed
from mmengine.config import Config
from mmengine.runner import Runner
from mmengine.runner.base_loop import BaseLoop

from ..registry import RUNNERS
from .cfg_options import CfgOptionsAction
from .config import default_work_dir, load_config, merge_cfg_options

# Errors a wrong config, path or argument raises while the config is read and the runner, its data and weights are
# built (mmengine's registry re-raises build errors with their type and the failing class in the message). The same
# types raised once a runner loop runs are bugs or bad samples mid-run, and keep their traceback.
USER_ERRORS = (FileNotFoundError, NotADirectoryError, IsADirectoryError, FileExistsError, PermissionError,
               ValueError, KeyError, TypeError, ImportError, SyntaxError)
DEBUG_ENV = 'RESBACKBONES_DEBUG'


class ToolParser(argparse.ArgumentParser):
    """argparse with a one-line error message (exit 2) instead of usage plus message."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f'{self.prog}: error: {message} (see --help)\n')


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """--work-dir, --cfg-options and --launcher, as in mmdet/mmpretrain."""
    parser.add_argument('--work-dir', help='folder for logs and checkpoints (default: ./work_dirs/<config name>)')
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction, metavar='KEY=VALUE',
                        help='override config keys, e.g. train_cfg.max_epochs=3 model.backbone.depth=50 '
                             '"param_scheduler=[dict(type=\'ConstantLR\')]"; a key whose top-level or dotted '
                             'parent is not in the config is an error')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'], default='none',
                        help='job launcher: none (one process), pytorch (torchrun), slurm (srun)')


def one_line(err: BaseException) -> str:
    """The message of ``err`` on one line (KeyError's repr quotes removed)."""
    text = err.args[0] if isinstance(err, KeyError) and len(err.args) == 1 else str(err)
    return ' '.join(str(text).split()) or type(err).__name__


def raised_in_a_loop(err: BaseException) -> bool:
    """Whether ``err`` came out of a running mmengine loop (training, validation or testing iterations)."""
    tb = err.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_name == 'run' and isinstance(tb.tb_frame.f_locals.get('self'), BaseLoop):
            return True
        tb = tb.tb_next
    return False


def run_tool(main: Callable[[Sequence[str] | None], int], argv: Sequence[str] | None = None,
             prog: str | None = None) -> int:
    """Run ``main``; a user error raised before any runner loop starts becomes one line ``prog: error: ...`` on
    stderr and exit status 2. Errors from inside a loop keep their traceback.

    Set RESBACKBONES_DEBUG=1 to get the full traceback always.
    """
    prog = prog or os.path.basename(sys.argv[0])
    try:
        return main(argv)
    except USER_ERRORS as err:
        if os.environ.get(DEBUG_ENV) or raised_in_a_loop(err):
            raise
        print(f'{prog}: error: {one_line(err)}', file=sys.stderr)
        return 2
    finally:
        # a process group left to the interpreter's exit can abort there ("terminate called without an active
        # exception", a rank of dist_train.sh ending with SIGABRT after its work was done). The runner sits in
        # reference cycles (its loops and hooks point back at it), so its DDP model, which holds the group, lived
        # on until the interpreter's own teardown: collect it first, while everything it needs is still there.
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            gc.collect()
            torch.distributed.destroy_process_group()


def config_from_args(args: argparse.Namespace) -> Config:
    """Load ``args.config``, merge --cfg-options, set launcher and work_dir (CLI > config > default)."""
    cfg = merge_cfg_options(load_config(args.config), args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        if os.path.exists(args.work_dir) and not os.path.isdir(args.work_dir):
            raise NotADirectoryError(f'--work-dir {args.work_dir} is a file; give a folder')
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = default_work_dir(args.config)
    return cfg


def check_checkpoint(path: str, flag: str) -> str:
    """``path`` when it is an existing file; FileNotFoundError (IsADirectoryError for a folder) naming ``flag``."""
    if os.path.isdir(path):
        resume = ' (or --resume with no value and --work-dir DIR: its latest checkpoint)' if flag == '--resume' else ''
        raise IsADirectoryError(f'{flag}: {path} is a folder; give a checkpoint file such as '
                                f'{os.path.join(path, "epoch_N.pth")}{resume}')
    if not os.path.isfile(path):
        raise FileNotFoundError(f'{flag}: checkpoint file not found: {path}')
    return path


def build_runner(cfg: Config) -> Runner:
    """The runner named by ``cfg.runner_type`` (our configs: SafeRunner), else mmengine's Runner."""
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)
