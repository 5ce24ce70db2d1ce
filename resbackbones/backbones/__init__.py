"""Backbones: the shared ResNet core, its blocks and stages, its video and face views, the named-model table."""
from .blocks import BasicBlock, Bottleneck, IBasicBlock
from .c2d import C2D
from .iresnet import IResNet
from .named import NAMED_MODELS, list_models, model_config
from .named_video import VIDEO_MODELS, list_video_models, video_model_config
from .omni import OmniResNet
from .resnet import ResNet, ResNetV1c, ResNetV1d, ResNeXt
from .resnet2plus1d import ResNet2Plus1d
from .resnet3d import ResNet3d
from .resnet3d_csn import ResNet3dCSN
from .resnet3d_slowfast import ResNet3dSlowFast
from .resnet3d_slowonly import ResNet3dSlowOnly
from .resnet_audio import ResNetAudio
from .resnet_tin import ResNetTIN
from .rgbpose_conv3d import RGBPoseConv3D
from .resnet_tsm import ResNetTSM
from .stage import ResStage
from .tanet import TANet
from .volume import VolumeResNet

__all__ = ['BasicBlock', 'Bottleneck', 'C2D', 'IBasicBlock', 'IResNet', 'NAMED_MODELS', 'OmniResNet', 'ResNeXt',
           'ResNet', 'ResNet2Plus1d', 'ResNet3d', 'ResNet3dCSN', 'ResNet3dSlowFast', 'ResNet3dSlowOnly', 'ResNetAudio',
           'ResNetTIN', 'ResNetTSM', 'ResNetV1c', 'ResNetV1d', 'ResStage', 'RGBPoseConv3D', 'TANet', 'VIDEO_MODELS',
           'VolumeResNet', 'list_models', 'list_video_models', 'model_config', 'video_model_config']
