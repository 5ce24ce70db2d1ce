"""Action-recognition datasets in mmaction2's formats (video and rawframe lists, skeleton annotation pickles)."""
from .action_list import ActionListDataset
from .pose_dataset import PoseDataset
from .rawframe_dataset import RawframeDataset
from .video_dataset import VideoDataset

__all__ = ['ActionListDataset', 'PoseDataset', 'RawframeDataset', 'VideoDataset']
