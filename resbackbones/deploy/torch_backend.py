"""The torch-only backend: conv+BN folding, channels_last, bf16 autocast and torch.compile, each a switch.

Defaults are what measured fastest without changing the numbers beyond fp32 rounding: folding and channels_last
on; ``precision='bf16'`` adds autocast (worth it where the CPU has avx512_bf16 / AMX); ``compile`` (inductor)
is off by default because its first call compiles for tens of seconds.
"""
from __future__ import annotations

import contextlib
import copy
import json
import os

import torch

from .backend import Backend, register
from .fold import fold_conv_bn
from .targets import DeployTarget


@register
class TorchBackend(Backend):
    """Eager (or compiled) torch on a folded copy of the target module; the caller's model is left unchanged."""

    name = 'torch'
    precisions = ('fp32', 'bf16')

    def __init__(self, target: DeployTarget, precision: str = 'fp32', fold: bool = True, channels_last: bool = True,
                 compile: bool = False):
        super().__init__(target, precision)
        self.fold, self.channels_last, self.compile = fold, channels_last, compile
        module = copy.deepcopy(target.module).eval()
        self.folded = fold_conv_bn(module, target.example) if fold else []
        # 2D layers only: a 4D input may feed 3D convolutions (OmniSource's images), whose weights refuse the format
        planar = target.example.dim() == 4 and all(p.dim() <= 4 for p in module.parameters())
        self.memory_format = torch.channels_last if channels_last and planar else torch.contiguous_format
        module = module.to(memory_format=self.memory_format)
        self.module = module
        self.run = torch.compile(module) if compile else module

    def _autocast(self):
        return torch.autocast('cpu', dtype=torch.bfloat16) if self.precision == 'bf16' else contextlib.nullcontext()

    def __call__(self, x: torch.Tensor):
        with torch.no_grad(), self._autocast():
            out = self.run(x.contiguous(memory_format=self.memory_format))
        return _to_float(out)

    def save(self, folder: str) -> list[str]:
        """The folded weights (``model_folded.pth``, loadable with weights_only=True) and the switches."""
        torch.save(self.module.state_dict(), os.path.join(folder, 'model_folded.pth'))
        with open(os.path.join(folder, 'torch_switches.json'), 'w', encoding='utf-8') as f:
            json.dump(self.describe(), f, indent=1)
        return ['model_folded.pth', 'torch_switches.json']

    def describe(self) -> dict:
        return {**super().describe(), 'fold': self.fold, 'folded_pairs': len(self.folded),
                # what runs: 3D models stay NCDHW (oneDNN's 3D convolutions keep that layout whatever is asked)
                'channels_last': self.memory_format is torch.channels_last, 'compile': self.compile}


def _to_float(out):
    """bf16 outputs back to fp32 and contiguous, so callers see the same dtype whatever the precision."""
    if isinstance(out, torch.Tensor):
        return out.float().contiguous()
    return tuple(_to_float(o) for o in out)
