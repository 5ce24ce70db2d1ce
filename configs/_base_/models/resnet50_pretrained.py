# ResNet-50 classifier whose backbone starts from ImageNet weights, for transfer learning. Any torchvision, timm,
# mmpretrain or mmdet ResNet-50 checkpoint works (format detected; the source fc is not loaded), e.g. torchvision's
# https://download.pytorch.org/models/resnet50-0676ba61.pth saved as checkpoints/resnet50-0676ba61.pth.
# num_classes must be set to the classes of your data: --cfg-options model.num_classes=N
_base_ = ['./resnet50.py']
model = dict(backbone=dict(init_cfg=dict(type='Pretrained', checkpoint='checkpoints/resnet50-0676ba61.pth')),
             num_classes=None)
