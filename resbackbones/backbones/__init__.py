"""Backbones: the shared ResNet core, its blocks and stages, its video and face views, the named-model table."""
from .blocks import BasicBlock, Bottleneck, IBasicBlock
from .iresnet import IResNet
from .named import NAMED_MODELS, list_models, model_config
from .resnet import ResNet, ResNetV1c, ResNetV1d, ResNeXt
from .resnet3d import ResNet3d
from .stage import ResStage
from .volume import VolumeResNet

__all__ = ['BasicBlock', 'Bottleneck', 'IBasicBlock', 'IResNet', 'NAMED_MODELS', 'ResNeXt', 'ResNet', 'ResNet3d',
           'ResNetV1c', 'ResNetV1d', 'ResStage', 'VolumeResNet', 'list_models',
           'model_config']
