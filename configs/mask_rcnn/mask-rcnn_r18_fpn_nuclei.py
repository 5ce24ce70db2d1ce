# Mask R-CNN R18-FPN trained from scratch on one real fluorescence image of nuclei, on CPU: the main demo
# (`make demo` = python tools/demos/nuclei_maskrcnn.py, which also prepares data/nuclei_coco; docs/detection.md).
# Nuclei are ~24 px wide: anchors are 4 x the level stride (16-256 px). One grey channel; batch norms train (no
# pretrained weights offline). Fewer proposals and RoIs than COCO's 2000/1000/512 keep an iteration ~0.5 s.
_base_ = ['../_base_/models/mask-rcnn_r50_fpn.py', '../_base_/datasets/nuclei_coco.py',
          '../_base_/schedules/adamw_cosine_iters.py']
model = dict(
    data_preprocessor=dict(mean=[30.0], std=[25.0]),
    backbone=dict(depth=18, in_channels=1, frozen_stages=-1, norm_cfg=dict(type='BN'), norm_eval=False,
                  init_cfg=None),
    neck=dict(out_channels=64),
    rpn_head=dict(anchor_generator=dict(scales=[4])),
    roi_head=dict(num_classes=1, fc_out_channels=256, mask_channels=(64, 64, 64, 64)),
    train_cfg=dict(rpn_proposal=dict(nms_pre=600, max_per_img=300), rcnn=dict(sampler=dict(num=128))),
    test_cfg=dict(rpn=dict(nms_pre=600, max_per_img=300)))
optim_wrapper = dict(optimizer=dict(lr=2e-3), clip_grad=dict(max_norm=10.0))
param_scheduler = [dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
                   dict(type='CosineAnnealingLR', by_epoch=False, begin=50, eta_min=1e-5)]
train_cfg = dict(max_iters=400, val_interval=100)  # AP on the held-out strip every 100 iterations
# CPU training: glibc keeps freed activations instead of faulting them in at every step (docs/training.md)
env_cfg = dict(malloc=dict(mmap_threshold=2**31 - 1, trim_threshold=2**31 - 1))
