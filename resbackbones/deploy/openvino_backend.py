"""OpenVINO as a backend: fp32, bf16 (inference precision hint) and int8 (NNCF post-training quantisation).

The model is converted from the folded torch module (``openvino.convert_model`` traces it); int8 calibrates
NNCF's quantisers on inputs from real images, given by the caller. Threads follow torch's setting so that a
side-by-side benchmark compares runtimes, not thread counts.
"""
from __future__ import annotations

import copy
import functools
import os
import warnings

import numpy as np
import torch

from .backend import Backend, as_outputs, check_calibration, register
from .fold import fold_conv_bn
from .targets import DeployTarget

HINTS = {'fp32': 'f32', 'bf16': 'bf16', 'int8': 'f32'}  # int8: what is left unquantised runs in fp32


@register
class OpenVINOBackend(Backend):
    name = 'openvino'
    precisions = ('fp32', 'bf16', 'int8')
    packages = ('openvino',)

    def __init__(self, target: DeployTarget, precision: str = 'fp32', calibration: list[torch.Tensor] | None = None,
                 threads: int | None = None, fold: bool = True):
        super().__init__(target, precision)
        import openvino as ov

        module = copy.deepcopy(target.module).eval()
        if fold:  # OpenVINO fuses BN itself; folding first only makes the converted graph smaller
            fold_conv_bn(module, target.example)
        with torch.no_grad():
            out = module(target.example)
        self.single = isinstance(out, torch.Tensor)
        shape = list(target.example.shape)
        dynamic = [-1] + shape[1:2] + ([-1] * (len(shape) - 2) if target.dynamic_spatial else shape[2:])
        try:
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                model = ov.convert_model(module, example_input=target.example, input=[ov.PartialShape(dynamic)])
        except Exception as err:  # the converter raises its own types; one line names the failure
            raise ValueError(f'OpenVINO conversion of the {target.kind} failed: {type(err).__name__}: '
                             f'{str(err).splitlines()[0] if str(err) else ""}') from err
        if precision == 'int8':
            model = quantize_nncf(model, check_calibration(self.name, calibration))
        self.model = model
        self.threads = threads or torch.get_num_threads()
        config = {'INFERENCE_PRECISION_HINT': HINTS[precision], 'INFERENCE_NUM_THREADS': self.threads,
                  'PERFORMANCE_HINT': 'LATENCY'}
        self.compiled = openvino_core().compile_model(model, 'CPU', config)
        self.request = self.compiled.create_infer_request()

    def __call__(self, x: torch.Tensor):
        result = self.request.infer([np.ascontiguousarray(x.detach().float().cpu().numpy())])
        values = [torch.from_numpy(np.array(result[out], copy=True)) for out in self.compiled.outputs]
        return as_outputs(values, self.single)

    def save(self, folder: str) -> list[str]:
        """``model.xml`` + ``model.bin`` (OpenVINO IR; fp32 weights, int8 ones when quantised)."""
        import openvino as ov

        ov.save_model(self.model, os.path.join(folder, 'model.xml'), compress_to_fp16=False)
        return ['model.xml', 'model.bin']

    def describe(self) -> dict:
        import openvino as ov

        return {**super().describe(), 'openvino': ov.get_version(), 'inference_precision': HINTS[self.precision],
                'threads': self.threads}


@functools.lru_cache(maxsize=None)
def openvino_core():
    """The process's one ``openvino.Core``, kept alive for as long as the process.

    Each backend used to compile through a temporary Core. Compiled models that outlived their Core corrupted the
    heap once garbage-collected: a later torch training run in the same process died in unrelated code (SIGSEGV
    or abort; reproduced with a deployed Mask R-CNN's fp32 RoI branches collected before a training run, and gone
    with one shared Core).
    """
    import openvino as ov

    return ov.Core()


def quantize_nncf(model, calibration: list[torch.Tensor]):
    """NNCF post-training int8 of an OpenVINO model, statistics from ``calibration`` (a list of input batches)."""
    import nncf

    data = nncf.Dataset([np.ascontiguousarray(x.float().numpy()) for x in calibration])
    return nncf.quantize(model, data, subset_size=sum(len(x) for x in calibration),
                         preset=nncf.QuantizationPreset.PERFORMANCE)
