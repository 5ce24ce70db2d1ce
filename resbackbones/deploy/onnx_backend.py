"""ONNX export (dynamic batch, opset recorded in the file) and onnxruntime as a backend.

Export uses torch's TorchScript-based exporter (``dynamo=False``): it needs only the ``onnx`` package, whereas the
dynamo exporter also needs onnxscript. The graph is exported from the folded module in fp32, so the file holds
no BatchNorm. The batch axis is always dynamic; H and W are dynamic unless the target says its padding was fixed
at trace time (the U-Net).
"""
from __future__ import annotations

import copy
import os
import shutil
import tempfile
import warnings

import numpy as np
import torch

from ..layers.deform_conv import DeformConv2dPack
from .backend import Backend, as_outputs, register
from .fold import fold_conv_bn
from .targets import DeployTarget

OPSET = 17
INPUT = 'input'


def _outputs_of(target: DeployTarget) -> tuple[list[str], bool, str]:
    """Output names, whether there is one, and the name of their first axis: 'batch', or 'rows' when there are
    several per input (a video recognizer's row per clip)."""
    with torch.no_grad():
        out = target.module(target.example)
    single = isinstance(out, torch.Tensor)
    first = out if single else out[0]
    rows = 'batch' if first.shape[0] == target.example.shape[0] else 'rows'
    return (['output'] if single else [f'output{i}' for i in range(len(out))]), single, rows


def export_onnx(target: DeployTarget, path: str, opset: int = OPSET, fold: bool = True) -> dict:
    """Write ``target``'s module to ``path`` as ONNX; returns a description (opset, input/output names, axes).

    Raises ValueError with one line when the exporter cannot trace the module.
    """
    deformable = [name for name, m in target.module.named_modules() if isinstance(m, DeformConv2dPack)]
    if deformable:  # the exporter fails on it only after printing hundreds of lines of TorchScript graph
        raise ValueError(f'ONNX has no deformable convolution (torchvision::deform_conv2d, e.g. {deformable[0]}): '
                         f'deploy the {target.kind} with --backend openvino or torch')
    module = copy.deepcopy(target.module).eval()
    if fold:
        fold_conv_bn(module, target.example)
    outputs, single, rows = _outputs_of(target)
    axes = {0: 'batch', 2: 'height', 3: 'width'} if target.dynamic_spatial else {0: 'batch'}
    if target.example.dim() == 5:
        axes = {0: 'batch'}
    dynamic = {INPUT: axes, **{name: {0: rows} for name in outputs}}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')  # the exporter's deprecation and tracer warnings
            torch.onnx.export(module, (target.example,), path, dynamo=False, opset_version=opset,
                              input_names=[INPUT], output_names=outputs, dynamic_axes=dynamic)
    except Exception as err:  # the exporter raises many types; one line says which op failed
        raise ValueError(f'ONNX export of the {target.kind} failed: {type(err).__name__}: '
                         f'{str(err).splitlines()[0] if str(err) else ""}') from err
    return {'format': 'onnx', 'opset': opset, 'input': INPUT, 'outputs': outputs, 'single_output': single,
            'dynamic_axes': {INPUT: {str(k): v for k, v in axes.items()}},
            'example_shape': list(target.example.shape), 'folded': fold}


@register
class OnnxRuntimeBackend(Backend):
    """onnxruntime's CPU session on the exported graph (fp32), threads matched to torch's."""

    name = 'onnxruntime'
    packages = ('onnx', 'onnxruntime')

    def __init__(self, target: DeployTarget, precision: str = 'fp32', opset: int = OPSET, threads: int | None = None):
        super().__init__(target, precision)
        import onnxruntime as ort

        self.workdir = tempfile.mkdtemp(prefix='resbackbones-onnx-')
        self.path = os.path.join(self.workdir, 'model.onnx')
        self.info = export_onnx(target, self.path, opset)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or torch.get_num_threads()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # onnxruntime's threads spin after each run by default, taking the cores from whatever the process does
        # next: OpenVINO timed right after it ran ~7% slower (ResNet-50, 2 cores), and onnxruntime gained nothing
        # from spinning (docs/deploy.md, "Fourth machine").
        options.add_session_config_entry('session.intra_op.allow_spinning', '0')
        self.session = ort.InferenceSession(self.path, options, providers=['CPUExecutionProvider'])

    def __call__(self, x: torch.Tensor):
        self.target.check_input(x, self.name)
        values = self.session.run(None, {INPUT: np.ascontiguousarray(x.detach().float().cpu().numpy())})
        return as_outputs([torch.from_numpy(v) for v in values], self.info['single_output'])

    def save(self, folder: str) -> list[str]:
        shutil.copyfile(self.path, os.path.join(folder, 'model.onnx'))
        return ['model.onnx']

    def describe(self) -> dict:
        return {**super().describe(), **{k: v for k, v in self.info.items() if k != 'single_output'}}

    def __del__(self):
        shutil.rmtree(getattr(self, 'workdir', ''), ignore_errors=True)
