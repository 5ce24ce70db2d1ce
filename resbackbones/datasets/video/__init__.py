"""Action-recognition datasets in mmaction2's formats (video, rawframe and audio-feature lists,
skeleton annotation pickles) and AVA's keyframe boxes for spatio-temporal action detection."""
from .action_list import ActionListDataset
from .audio_dataset import AudioDataset
from .ava_dataset import AVADataset
from .ava_kinetics_dataset import AVAKineticsDataset
from .ava_labelmap import read_labelmap
from .pose_dataset import PoseDataset
from .rawframe_dataset import RawframeDataset
from .video_dataset import VideoDataset

__all__ = ['ActionListDataset', 'AudioDataset', 'AVADataset', 'AVAKineticsDataset', 'PoseDataset', 'RawframeDataset',
           'VideoDataset', 'read_labelmap']
