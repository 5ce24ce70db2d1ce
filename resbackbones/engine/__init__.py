"""Training engine: SafeRunner (weights_only-safe, atomic checkpoints; CPU/GPU-aware DDP; SyncBN fallback),
its checkpoint and progress hooks, and the helpers tools/train.py and tools/test.py share.

Importing this package registers ``SafeRunner`` in RUNNERS, the hooks in HOOKS, ``TSMOptimWrapperConstructor`` in
OPTIM_WRAPPER_CONSTRUCTORS, ``IterBasedTrainLoop`` (mmengine's, without its needless epoch-end pause) and
mmaction2's ``MultiLoaderEpochBasedTrainLoop`` in LOOPS
(mmengine also imports it lazily when a config names them under ``default_scope='resbackbones'``).
"""
from .atomic import atomic_dir, atomic_path, latest_checkpoint
from .checkpoint_codec import decode_checkpoint, encode_checkpoint
from .codec_hook import CheckpointCodecHook
from .cpu_amp import ChannelsLastHook, CPUAmpOptimWrapper
from .config import check_cfg_options, load_config, merge_cfg_options
from .dist import resolve_backend
from .iter_loop import IterBasedTrainLoop
from .lfb_hook import LFBWriteHook
from .multi_loader_loop import MultiLoaderEpochBasedTrainLoop
from .part_grad_clip import PartGradClipHook
from .progress_hook import EvalProgressHook
from .runner import SafeRunner
from .sync_bn import fallback_sync_bn
from .tsm_optim_constructor import TSMOptimWrapperConstructor

__all__ = ['CPUAmpOptimWrapper', 'ChannelsLastHook', 'CheckpointCodecHook', 'EvalProgressHook', 'IterBasedTrainLoop',
           'LFBWriteHook', 'MultiLoaderEpochBasedTrainLoop', 'PartGradClipHook', 'SafeRunner',
           'TSMOptimWrapperConstructor', 'atomic_dir', 'atomic_path', 'check_cfg_options', 'decode_checkpoint',
           'encode_checkpoint', 'fallback_sync_bn', 'latest_checkpoint', 'load_config', 'merge_cfg_options',
           'resolve_backend']
