"""Action-recognition datasets in mmaction2's list formats (videos, rawframe folders)."""
from .action_list import ActionListDataset
from .rawframe_dataset import RawframeDataset
from .video_dataset import VideoDataset

__all__ = ['ActionListDataset', 'RawframeDataset', 'VideoDataset']
