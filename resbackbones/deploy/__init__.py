"""Deployment: conv+BN folding, structured channel pruning, torch switches (channels_last, bf16, compile), ONNX
export and runtime backends (onnxruntime, OpenVINO fp32/bf16/int8, PT2E int8 via torchao). Runtimes are imported
only when their backend is built."""
from .backend import BACKENDS, PRECISIONS, Backend, build_backend
from .fold import find_conv_bn_pairs, fold_conv_bn
from .onnx_backend import export_onnx
from .prune import prune_model
from .roi_branches import DetectorBackend, build_detector_backend
from .targets import DeployTarget, TensorPart, attach, deploy_target, kind_of

__all__ = ['BACKENDS', 'PRECISIONS', 'Backend', 'build_backend', 'find_conv_bn_pairs', 'fold_conv_bn',
           'export_onnx', 'prune_model', 'DetectorBackend', 'build_detector_backend', 'DeployTarget', 'TensorPart', 'attach', 'deploy_target', 'kind_of']
