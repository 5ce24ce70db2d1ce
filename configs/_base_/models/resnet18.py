# ResNet-18 image classifier; see resnet50.py.
_base_ = ['./resnet50.py']
model = dict(backbone=dict(depth=18))
