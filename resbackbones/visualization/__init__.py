"""Pictures of what a model predicts, and the test-time hooks that draw them (``tools/test.py --show-dir``).

Every visualisation hook lives here, and the HOOKS registry imports this package lazily, so a config that names
one (``show_hook``) needs no ``custom_imports`` and no model module has to import it.
"""
from .action_visualizer import ActionVisualizer
from .det_hook import DetVisualizationHook
from .draw import draw_det_sample, draw_instances, palette, save_png
from .prediction_grid import PredictionGridHook
from .seg_overlay import SegOverlayHook, save_overlay

__all__ = ['ActionVisualizer', 'DetVisualizationHook', 'PredictionGridHook', 'SegOverlayHook', 'draw_det_sample', 'draw_instances',
           'palette', 'save_overlay', 'save_png']
