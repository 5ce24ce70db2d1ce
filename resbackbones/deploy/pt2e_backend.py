"""The torch-only int8 path: PT2E post-training quantisation with torchao's x86 inductor quantizer, then
torch.compile, whose inductor lowers the quantised graph to oneDNN int8 kernels. No runtime beyond torch and
torchao (where PyTorch moved PT2E). BN needs no folding first: PT2E folds it into the convolutions itself.
"""
from __future__ import annotations

import copy
import os
from collections import defaultdict

import torch

from .backend import Backend, check_calibration, register
from .targets import DeployTarget


@register
class PT2EBackend(Backend):
    """int8 by PT2E: export, annotate with ``X86InductorQuantizer``'s default (static, per-channel weights),
    observe ``calibration`` batches, convert, compile with weight freezing. The caller's model is unchanged."""

    name = 'pt2e'
    precisions = ('int8',)
    packages = ('torchao',)

    def __init__(self, target: DeployTarget, precision: str = 'int8', calibration: list[torch.Tensor] | None = None):
        super().__init__(target, precision)
        from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e
        from torchao.quantization.pt2e.quantizer import x86_inductor_quantizer as xiq

        calibration = check_calibration(self.name, calibration)
        volumetric = [name for name, module in target.module.model.named_modules()
                      if isinstance(module, torch.nn.Conv3d)]
        if volumetric:  # a video recognizer came out with only its classifier int8, under an int8 label
            raise ValueError(f'PT2E: X86InductorQuantizer annotates 2D convolutions and linears only; the '
                             f'{target.kind} has {len(volumetric)} 3D convolutions (e.g. {volumetric[0]}) that would '
                             f'stay fp32: use --backend openvino --precision int8')
        program = self._export(copy.deepcopy(target.module).eval())
        self.input_ranges = input_ranges(program)
        exported = program.module()
        separate_repeated_calls(exported.graph)
        quantizer = xiq.X86InductorQuantizer().set_global(xiq.get_default_x86_inductor_quantization_config())
        self.kept_fp32 = single_channel_convs(target.module)
        for name in self.kept_fp32:
            quantizer.set_module_name_qconfig(name, None)
        prepared = prepare_pt2e(exported, quantizer)
        with torch.no_grad():
            for x in calibration:
                prepared(x.contiguous())
        self.module = convert_pt2e(prepared)
        self.quantized_weights = quantized_weights(self.module.graph)
        if not self.quantized_weights:  # an "int8" model that is fp32 throughout would be reported as int8
            raise ValueError(f'PT2E: X86InductorQuantizer quantised no convolution or linear layer of the '
                             f'{target.kind} (it annotates 2D convolutions and linears; 3D ones stay fp32): use '
                             f'--backend openvino --precision int8')
        self.run = torch.compile(self.module)
        self.calibration_inputs = sum(len(x) for x in calibration)

    def _export(self, module: torch.nn.Module) -> torch.export.ExportedProgram:
        """torch.export with a dynamic batch (and H, W for 2D inputs); one ValueError line when it fails."""
        example = self.target.example
        if example.shape[0] == 1:  # a batch of 1 would be specialised to 1 by export
            example = example.expand(2, *example.shape[1:]).contiguous()
        dims = {0: torch.export.Dim.AUTO}
        if self.target.dynamic_spatial:
            dims.update({2: torch.export.Dim.AUTO, 3: torch.export.Dim.AUTO})
        try:
            return torch.export.export(module, (example,), dynamic_shapes=(dims,))
        except Exception as err:  # export raises many types; one line names the failure
            raise ValueError(f'PT2E: torch.export of the {self.target.kind} failed: {type(err).__name__}: '
                             f'{str(err).splitlines()[0] if str(err) else ""}') from err

    def __call__(self, x: torch.Tensor):
        import torch._inductor.config as inductor_config

        self.target.check_input(x, self.name)
        # H and W only (a fixed channel count is the runtime's to name), and upper bounds only: export's lower
        # bound of 2 (its 0/1 specialisation) does not refuse a size of 1
        outside = [(axis, n, low, high) for axis, (n, (low, high)) in enumerate(zip(x.shape, self.input_ranges))
                   if axis >= 2 and low != high and n > high]
        if x.dim() == len(self.input_ranges) and outside:  # else torch.export's guard: a bare assertion
            axis, n, low, high = outside[0]
            raise ValueError(f'{self.name}: the exported {self.target.kind} takes sizes {low:g}..{high:g} on input '
                             f'axis {axis} (torch.export specialised it to the example '
                             f'{tuple(self.target.example.shape)}: a deepest feature map of 1 pixel caps H, W at the '
                             f"example's; deploy from larger inputs); got {tuple(x.shape)}")

        # Freezing constant-folds the int8 weights into prepacked oneDNN ones; without it inductor fails on the
        # prepack op (torch 2.14). It must hold whenever a call (re)compiles, and compile's own ``options``
        # do not reach that pass, so the global setting is patched around each call.
        with torch.no_grad(), inductor_config.patch(freezing=True):
            out = self.run(x.float().contiguous())  # inductor's graph crashed on strided views (torch 2.14)
        return out.float() if isinstance(out, torch.Tensor) else tuple(o.float() for o in out)

    def save(self, folder: str) -> list[str]:
        """The quantised graph as a torch.export program (``model_int8.pt2``; ``torch.export.load`` reads it)."""
        torch.export.save(self._export(self.module), os.path.join(folder, 'model_int8.pt2'))
        return ['model_int8.pt2']

    def describe(self) -> dict:
        import torchao

        return {**super().describe(), 'torchao': torchao.__version__, 'compile': True,
                'quantizer': 'X86InductorQuantizer (default: static, per-channel weights)',
                'calibration_inputs': self.calibration_inputs, 'kept_fp32': self.kept_fp32,
                'input_ranges': [[int(low), int(high) if high != float('inf') else None]
                                 for low, high in self.input_ranges],
                'quantized_weights': self.quantized_weights}


def input_ranges(program: torch.export.ExportedProgram) -> list[tuple[float, float]]:
    """(lowest, highest) size that ``program``'s input accepts on each axis (inf where unbounded)."""
    name = program.graph_signature.user_inputs[0]
    value = next(node for node in program.graph.nodes if node.name == name).meta['val']
    ranges = []
    for size in value.shape:
        if isinstance(size, int):
            ranges.append((size, size))
        else:
            bounds = program.range_constraints[size.node.expr]
            ranges.append((float(bounds.lower), float(bounds.upper)))
    return ranges


def quantized_weights(graph: torch.fx.Graph) -> int:
    """How many weights a converted PT2E graph dequantizes per output channel: one per quantised conv / linear."""
    return sum(1 for node in graph.nodes if node.op == 'call_function' and 'dequantize_per_channel' in str(node.target))


def single_channel_convs(module: torch.nn.Module) -> list[str]:
    """Names of the 2D convolutions that read one input channel (a grey image's stem); they stay fp32.

    With one channel, NCHW and channels-last strides describe the same tensor, and once inductor recompiles for
    a new batch size (symbolic), its shape function for the int8 convolution picks NCHW while oneDNN returns
    channels-last: the compiled graph stops on a stride assertion (torch 2.14). Such a convolution is a small
    part of the work, so leaving it in fp32 costs little.
    """
    return [name for name, m in module.named_modules() if isinstance(m, torch.nn.Conv2d) and m.in_channels == 1]


def separate_repeated_calls(graph: torch.fx.Graph) -> None:
    """Give each call of a module called more than once its own module path in the nodes' ``nn_module_stack``.

    torch 2.14's torch.export records no ``source_fn_stack``, so torchao groups nodes into source partitions by
    their innermost module path; a module called twice (torchvision's and our blocks reuse one ReLU) becomes one
    partition with two outputs, and the quantizer stops with "Input partition has more than one output node".
    Here the k-th connected run of a path's nodes (k >= 1) becomes ``'<path>@k'``; the graph itself is unchanged.
    """
    by_path: dict[str, list[torch.fx.Node]] = defaultdict(list)
    for node in graph.nodes:
        stack = node.meta.get('nn_module_stack')
        if node.op == 'call_function' and stack:
            by_path[next(reversed(stack.values()))[0]].append(node)
    for path, nodes in by_path.items():
        call_of: dict[torch.fx.Node, int] = {}
        for node in nodes:  # graph order, so a node's inputs are numbered before it
            inside = [call_of[a] for a in node.all_input_nodes if a in call_of]
            call_of[node] = min(inside) if inside else len(set(call_of.values()))
        for node, call in call_of.items():
            if call:
                stack = dict(node.meta['nn_module_stack'])
                key = next(reversed(stack))
                stack[key] = (f'{path}@{call}', stack[key][1])
                node.meta['nn_module_stack'] = stack
