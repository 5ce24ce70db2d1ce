"""Action-recognition datasets in mmaction2's formats (video, rawframe and audio-feature lists,
skeleton annotation pickles)."""
from .action_list import ActionListDataset
from .audio_dataset import AudioDataset
from .pose_dataset import PoseDataset
from .rawframe_dataset import RawframeDataset
from .video_dataset import VideoDataset

__all__ = ['ActionListDataset', 'AudioDataset', 'PoseDataset', 'RawframeDataset', 'VideoDataset']
