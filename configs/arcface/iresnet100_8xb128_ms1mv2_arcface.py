# arcface_torch's ms1mv2_r100: as the r50 config with IResNet-100.
_base_ = ['./iresnet50_8xb128_ms1mv2_arcface.py']
model = dict(backbone=dict(depth=100))
