# ir-CSN R152 (mmaction2's ircsn_r152 = ResNet3dCSN): channel-separated bottlenecks (depthwise 3x3x3 convs), a 3x7x7
# stem, temporal strides (1, 2, 2, 2), no pool2; I3DHead-equivalent classifier. Testing sends 10 views through the
# network at a time (test_cfg.max_testing_views; same scores, bounded memory). For ip-CSN set
# backbone.bottleneck_mode='ip'; to fine-tune from an IG65M / Sports-1M checkpoint, add backbone.init_cfg and, as
# mmaction2's "bnfrozen" configs, norm_eval=True with bn_frozen=True.
model = dict(
    type='Recognizer3D',
    backbone=dict(type='ResNet3dCSN', depth=152, bottleneck_mode='ir', with_pool2=False, norm_eval=False,
                  zero_init_residual=False),
    num_classes=400,
    dropout=0.5,
    average_clips='prob',
    data_preprocessor=dict(type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], format_shape='NCTHW'),
    test_cfg=dict(max_testing_views=10),
)
