# ResNet-18 student distilled from the ResNet-50 teacher (resnet50_digits.py, trained first), T = 4; the
# checkpoint loads into resnet18_digits.py (same keys) for tools/test.py and tools/deploy.py. docs/deploy.md.
_base_ = ['./resnet18_digits.py']
# {{fileDirname}}: this config's folder, so the teacher's config is found from any working directory
model = dict(type='DistillClassifier', teacher_config='{{fileDirname}}/resnet50_digits.py',
             teacher_checkpoint='work_dirs/resnet50_digits/epoch_10.pth',
             kd_loss=dict(type='KDLoss', temperature=4.0, weight=1.0))
