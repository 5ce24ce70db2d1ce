"""The backend abstraction: a deployed tensor part that takes and returns torch tensors, whatever runs it.

A backend is built from a ``DeployTarget`` (module + example input) and a precision; it is then called like the
module (``backend(x)`` -> tensor or tuple of tensors, on CPU) and can ``save`` its artefacts into a folder. The
runtimes (onnxruntime, openvino, nncf, torchao) are imported only when their backend is built, so the library works
without them; a missing one is an ImportError naming the package and the extra that installs it.
"""
from __future__ import annotations

import importlib
import importlib.util
from typing import Callable

import torch

from .targets import DeployTarget

PRECISIONS = ('fp32', 'bf16', 'int8')
BACKENDS: dict[str, type[Backend]] = {}


class Backend:
    """Base class. Subclasses set ``name``, ``precisions``, ``packages`` and implement ``__call__`` and ``save``."""

    name: str = ''
    precisions: tuple[str, ...] = ('fp32',)
    packages: tuple[str, ...] = ()  # import names this backend needs
    precision_packages: dict[str, tuple[str, ...]] = {}  # more of them at a precision (OpenVINO's int8: nncf)

    def __init__(self, target: DeployTarget, precision: str = 'fp32'):
        if precision not in self.precisions:
            raise ValueError(f"backend {self.name!r} supports precision {list(self.precisions)}; got {precision!r}")
        self.target, self.precision = target, precision
        self.kind = target.kind

    def __call__(self, x: torch.Tensor):
        raise NotImplementedError

    def save(self, folder: str) -> list[str]:
        """Write this backend's artefacts into the (existing, empty) ``folder``; returns the file names."""
        raise NotImplementedError

    def describe(self) -> dict:
        """Settings to record in the deployment manifest."""
        return {'backend': self.name, 'precision': self.precision}


def register(cls: type[Backend]) -> type[Backend]:
    BACKENDS[cls.name] = cls
    return cls


def require(backend: str, *packages: str) -> None:
    """ImportError, one line, when a package ``backend`` needs is not installed."""
    missing = [p for p in packages if importlib.util.find_spec(p) is None]
    if missing:
        raise ImportError(f"backend {backend!r} needs {', '.join(missing)}, which is not installed: "
                          f"pip install 'resbackbones[deploy]'")


def build_backend(name: str, target: DeployTarget, precision: str = 'fp32', **options) -> Backend:
    """Build backend ``name`` ('torch', 'onnxruntime', 'openvino', 'pt2e') for ``target`` at ``precision``.

    ``options`` go to the backend (torch: fold, channels_last, compile; int8 backends: calibration, a list of
    input tensors from real images).
    """
    cls = backend_class(name, precision)
    require(name, *cls.packages, *cls.precision_packages.get(precision, ()))
    return cls(target, precision, **options)


def backend_class(name: str, precision: str) -> type[Backend]:
    """The class of backend ``name``; ValueError when it is unknown or lacks ``precision``."""
    _load_backends()
    if name not in BACKENDS:
        raise ValueError(f'unknown backend {name!r}; known: {sorted(BACKENDS)}')
    cls = BACKENDS[name]
    if precision not in cls.precisions:
        raise ValueError(f"backend {name!r} supports precision {list(cls.precisions)}; got {precision!r}")
    return cls


def _load_backends() -> None:
    # The modules register themselves; they import their runtime lazily, inside the class.
    for module in ('torch_backend', 'onnx_backend', 'openvino_backend', 'pt2e_backend'):
        importlib.import_module(f'{__package__}.{module}')


def as_outputs(values: list[torch.Tensor], single: bool) -> torch.Tensor | tuple[torch.Tensor, ...]:
    """A runtime's list of outputs as the torch module returned them: one tensor, or a tuple."""
    return values[0] if single else tuple(values)


def check_calibration(backend: str, calibration: list[torch.Tensor] | None) -> list[torch.Tensor]:
    if not calibration:
        raise ValueError(f"backend {backend!r} precision 'int8' needs calibration inputs (real images)")
    return calibration


Runner = Callable[[torch.Tensor], object]
