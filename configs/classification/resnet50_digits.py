# The distillation teacher: ResNet-50 on the UCI digits, otherwise the demo's settings (resnet18_digits.py).
#   python tools/train.py configs/classification/resnet50_digits.py --work-dir work_dirs/resnet50_digits
_base_ = ['./resnet18_digits.py']
model = dict(backbone=dict(depth=50))
