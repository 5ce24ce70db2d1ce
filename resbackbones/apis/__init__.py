"""High-level inference helpers (sliding-window prediction, volume prediction, detector and face inference)."""
from .face import embed_faces, init_recognizer
from .inference import inference_detector, init_detector
from .sliding_window import importance_map, sliding_window_inference, window_starts
from .volume_inference import predict_volume, predict_volume_3d, save_nifti

__all__ = ['inference_detector', 'init_detector',  # detection
           'embed_faces', 'init_recognizer',  # face
           'importance_map', 'predict_volume', 'predict_volume_3d', 'save_nifti',
           'sliding_window_inference', 'window_starts']
