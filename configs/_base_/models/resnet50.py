# ResNet-50 image classifier (backbone -> global average pool -> fc). The head width comes from the backbone's
# feature_specs; no channel count is written here. Inputs are RGB uint8, normalised on the device.
model = dict(
    type='ImageClassifier',
    backbone=dict(type='ResNet', depth=50, out_indices=(3,), norm_eval=False),
    num_classes=1000,
    data_preprocessor=dict(type='ImgDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375]),
)
show_hook = 'PredictionGridHook'  # tools/test.py --show-dir DIR: DIR/predictions.png, a grid titled 'pred (gt true)'
