"""mmaction2's ``ActionVisualizer`` name, so that its default runtime (``visualizer=dict(type='ActionVisualizer',
vis_backends=...)``) builds here: mmengine's Visualizer, which writes the scalars and configs the runner logs.

Drawing frames of a video sample (mmaction2's ``add_datasample``, used by its VisualizationHook, which its runtime
leaves off) is not provided; calling it says so rather than doing nothing.
"""
from __future__ import annotations

from mmengine.visualization import Visualizer

from ..registry import VISUALIZERS


@VISUALIZERS.register_module()
class ActionVisualizer(Visualizer):
    """mmengine's Visualizer under mmaction2's name (same arguments)."""

    def add_datasample(self, name: str, *args, **kwargs) -> None:
        raise NotImplementedError(f"ActionVisualizer.add_datasample({name!r}): drawing video samples is not "
                                  f"provided by resbackbones; the visualizer logs scalars only")
