"""Pictures of detections: drawing helpers and the test-time DetVisualizationHook (``tools/test.py --show-dir``)."""
from .draw import draw_det_sample, draw_instances, palette, save_png
from .hook import DetVisualizationHook

__all__ = ['DetVisualizationHook', 'draw_det_sample', 'draw_instances', 'palette', 'save_png']
