"""The torch-only int8 path: PT2E post-training quantisation with the x86 inductor quantizer, then
torch.compile (inductor lowers the quantised graph to int8 oneDNN kernels). Needs torchao, where PyTorch moved
PT2E quantisation; no other runtime. BN needs no folding first: PT2E folds it into the convolutions itself.
"""
from __future__ import annotations

import copy
import os

import torch

from .backend import Backend, check_calibration, register
from .targets import DeployTarget


@register
class PT2EBackend(Backend):
    name = 'pt2e'
    precisions = ('int8',)
    packages = ('torchao',)

    def __init__(self, target: DeployTarget, precision: str = 'int8', calibration: list[torch.Tensor] | None = None):
        super().__init__(target, precision)
        import torch._inductor.config as inductor_config
        from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e
        from torchao.quantization.pt2e.quantizer import x86_inductor_quantizer as xiq

        calibration = check_calibration(self.name, calibration)
        module = copy.deepcopy(target.module).eval()
        batch = torch.export.Dim('batch', min=1, max=1024)
        try:
            exported = torch.export.export(module, (target.example,), dynamic_shapes=({0: batch},)).module()
        except Exception as err:  # export raises many types; one line names the failure
            raise ValueError(f'PT2E: torch.export of the {target.kind} failed: {type(err).__name__}: '
                             f'{str(err).splitlines()[0] if str(err) else ""}') from err
        quantizer = xiq.X86InductorQuantizer().set_global(xiq.get_default_x86_inductor_quantization_config())
        prepared = prepare_pt2e(exported, quantizer)
        with torch.no_grad():
            for x in calibration:
                prepared(x)
        self.module = convert_pt2e(prepared)
        inductor_config.freezing = True  # constant-folds the weights so inductor picks the int8 kernels
        self.run = torch.compile(self.module)
        self.calibration_inputs = sum(len(x) for x in calibration)

    def __call__(self, x: torch.Tensor):
        with torch.no_grad():
            out = self.run(x)
        return out.float() if isinstance(out, torch.Tensor) else tuple(o.float() for o in out)

    def save(self, folder: str) -> list[str]:
        """The quantised graph as a torch.export program (``model_int8.pt2``, load with torch.export.load)."""
        program = torch.export.export(self.module, (self.target.example,))
        torch.export.save(program, os.path.join(folder, 'model_int8.pt2'))
        return ['model_int8.pt2']

    def describe(self) -> dict:
        return {**super().describe(), 'quantizer': 'X86InductorQuantizer (default config)', 'compile': True}
