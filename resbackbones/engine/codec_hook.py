"""The hook that applies :mod:`checkpoint_codec` on every save and load of a runner."""
from __future__ import annotations

from mmengine.hooks import Hook
from mmengine.runner import Runner

from ..registry import HOOKS
from .checkpoint_codec import decode_checkpoint, encode_checkpoint


@HOOKS.register_module()
class CheckpointCodecHook(Hook):
    """Encode checkpoints for ``torch.load(weights_only=True)`` before saving, decode them after loading.

    Priority LOWEST: it runs after every other ``before_save_checkpoint`` hook (so what they add is encoded too).
    ``SafeRunner`` registers it by itself; add it to ``custom_hooks`` only with a plain mmengine Runner.
    """

    priority = 'LOWEST'

    def before_save_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        encode_checkpoint(checkpoint)

    def after_load_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        decode_checkpoint(checkpoint)
