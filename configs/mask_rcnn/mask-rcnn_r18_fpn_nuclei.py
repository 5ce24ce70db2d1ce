# Mask R-CNN R18-FPN trained from scratch on one real fluorescence image of nuclei (stardist's img2d/mask2d), CPU.
# Data: `python tools/demos/nuclei_maskrcnn.py` fetches it (tools/data/fetch_data.py nuclei: columns 0-383 train,
# 384-511 held out) and converts each part to COCO with tools/data/instance_to_coco.py into data/nuclei_coco/.
# Nuclei are ~24 px wide: anchors are 4 x the level stride (16-256 px); one grey channel; batch norms train
# (from scratch: there are no pretrained weights offline). Random 192x192 crops, flips, 90-degree turns, jitter.
_base_ = ['../_base_/models/mask-rcnn_r50_fpn.py', '../_base_/default_runtime.py']
data_root = 'data/nuclei_coco/'
model = dict(
    data_preprocessor=dict(mean=[30.0], std=[25.0]),
    backbone=dict(depth=18, in_channels=1, frozen_stages=-1, norm_cfg=dict(type='BN'), norm_eval=False,
                  init_cfg=None),
    neck=dict(out_channels=64),
    rpn_head=dict(anchor_generator=dict(scales=[4])),
    roi_head=dict(num_classes=1, fc_out_channels=256, mask_channels=(64, 64, 64, 64)),
    train_cfg=dict(rpn_proposal=dict(nms_pre=600, max_per_img=300), rcnn=dict(sampler=dict(num=128))),
    test_cfg=dict(rpn=dict(nms_pre=600, max_per_img=300)))

train_pipeline = [
    dict(type='LoadImageFromFile', color_type='grayscale'),
    dict(type='LoadDetAnnotations', with_mask=True),
    dict(type='DetAlbu', transforms=[
        dict(type='RandomCrop', height=192, width=192),
        dict(type='HorizontalFlip', p=0.5), dict(type='VerticalFlip', p=0.5), dict(type='RandomRotate90', p=0.5),
        dict(type='RandomBrightnessContrast', brightness_limit=0.2, contrast_limit=0.2, p=0.5)]),
    dict(type='PackDetInputs'),
]
test_pipeline = [dict(type='LoadImageFromFile', color_type='grayscale'), dict(type='PackDetInputs')]
train_dataloader = dict(
    batch_size=2, num_workers=1, persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='CocoDataset', data_root=data_root, ann_file='train.json', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1, num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='CocoDataset', data_root=data_root, ann_file='val.json', test_mode=True,
                 pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='CocoMetric', metric=['bbox', 'segm'])
test_evaluator = val_evaluator

max_iters = 400
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=100)  # AP every 100 iterations
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=2e-3, weight_decay=1e-4),
                     clip_grad=dict(max_norm=10.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=50, end=max_iters, eta_min=1e-5),
]
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(by_epoch=False, interval=max_iters, save_best=None))
log_processor = dict(by_epoch=False)
