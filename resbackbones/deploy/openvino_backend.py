"""OpenVINO as a backend: fp32, bf16 (inference precision hint) and int8 (NNCF post-training quantisation).

The model is converted from the folded torch module (``openvino.convert_model`` traces it) with a dynamic batch
(and H, W for images); int8 calibrates NNCF's quantisers on inputs from real images, given by the caller. The saved
IR stays dynamic; at run time the first shapes met (the example's, the deployed batch) also get a model compiled
for that shape alone, whose kernels OpenVINO picks for it: ResNet-50 at batch 8 ran 3-9% faster than on the
dynamic model, the U-Net's sliding window 4-14% (docs/deploy.md, "Static shapes"). Threads follow torch's setting
so that a side-by-side benchmark compares runtimes, not thread counts.
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


def static_compile_crashes(target: DeployTarget, precision: str) -> bool:
    """Whether OpenVINO's CPU plugin is known to crash compiling ``target`` for a fixed input shape: GroupNorm in
    fp32 (OpenVINO 2026.4 on the AMX Xeon of docs/deploy.md: the MNI U-Nets, 2D and 3D, down to a ResNet-18
    classifier of width 16; their bf16 and int8 models, their dynamic-shape fp32 model and BatchNorm models
    compile)."""
    return precision == 'fp32' and any(isinstance(m, torch.nn.GroupNorm) for m in target.module.modules())


@register
class OpenVINOBackend(Backend):
    name = 'openvino'
    precisions = ('fp32', 'bf16', 'int8')
    packages = ('openvino',)
    precision_packages = {'int8': ('nncf',)}  # post-training quantisation

    def __init__(self, target: DeployTarget, precision: str = 'fp32', calibration: list[torch.Tensor] | None = None,
                 threads: int | None = None, fold: bool = True, static_shapes: int | None = None):
        """``static_shapes``: how many input shapes get a model compiled for that shape alone, in the order they
        are first met, the example's first; calls at any other shape run on the dynamic model. Default 2 (the
        example's shape and the first other one, e.g. a sliding window's batch of patches after a one-patch
        example), or 0 when the target's shape varies call by call (a detector's RoI branches)."""
        super().__init__(target, precision)
        crashes = static_compile_crashes(target, precision)
        if static_shapes is None:
            static_shapes = 0 if target.shape_varies or crashes else 2
        if isinstance(static_shapes, bool) or not isinstance(static_shapes, int) or static_shapes < 0:
            raise ValueError(f'static_shapes must be an integer >= 0; got {static_shapes!r}')
        if static_shapes and crashes:
            raise ValueError(f'static_shapes={static_shapes}: OpenVINO crashes (SIGSEGV) compiling a model with '
                             'GroupNorm for a fixed shape in fp32; use 0 (the default here), or bf16')
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
        self.static_shapes = static_shapes
        self.config = {'INFERENCE_PRECISION_HINT': HINTS[precision], 'INFERENCE_NUM_THREADS': self.threads,
                       'PERFORMANCE_HINT': 'LATENCY'}
        self.static: dict[tuple[int, ...], object] = {}  # shape -> infer request of the model compiled for it
        self.dynamic = None  # infer request of the dynamic model, compiled when first needed
        self._request(tuple(target.example.shape))

    def _request(self, shape: tuple[int, ...]):
        """The infer request that runs inputs of ``shape``, compiling a model for it on first use."""
        if shape in self.static:
            return self.static[shape]
        if len(self.static) < self.static_shapes:
            model = self.model.clone()
            model.reshape(list(shape))
            self.static[shape] = openvino_core().compile_model(model, 'CPU', self.config).create_infer_request()
            return self.static[shape]
        if self.dynamic is None:
            self.dynamic = openvino_core().compile_model(self.model, 'CPU', self.config).create_infer_request()
        return self.dynamic

    def __call__(self, x: torch.Tensor):
        self.target.check_input(x, self.name)
        import openvino as ov

        exported = self.model.input(0).get_partial_shape()
        if not exported.compatible(ov.PartialShape(list(x.shape))):  # OpenVINO ran such inputs, giving empty or
            # wrong outputs (a (2, 4, ...) TSN batch on a model of 8 segments), or reshaped to them
            raise ValueError(f'{self.name}: the model was exported for inputs of shape {exported} (? any size); got '
                             f'{tuple(x.shape)}')
        result = self._request(tuple(x.shape)).infer([np.ascontiguousarray(x.detach().float().cpu().numpy())])
        values = [torch.from_numpy(np.array(value, copy=True)) for value in result.to_tuple()]
        return as_outputs(values, self.single)

    def save(self, folder: str) -> list[str]:
        """``model.xml`` + ``model.bin`` (OpenVINO IR; fp32 weights, int8 ones when quantised)."""
        import openvino as ov

        ov.save_model(self.model, os.path.join(folder, 'model.xml'), compress_to_fp16=False)
        return ['model.xml', 'model.bin']

    def describe(self) -> dict:
        import openvino as ov

        return {**super().describe(), 'openvino': ov.get_version(), 'inference_precision': HINTS[self.precision],
                'threads': self.threads, 'static_shapes': [list(shape) for shape in self.static]}


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
    return nncf.quantize(model, data, subset_size=len(calibration),  # NNCF counts dataset items: batches
                         preset=nncf.QuantizationPreset.PERFORMANCE)
