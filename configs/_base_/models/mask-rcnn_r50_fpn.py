# Mask R-CNN R50-FPN (torchvision's maskrcnn_resnet50_fpn): Faster R-CNN plus the 4-conv mask branch on 14x14 RoIs.
_base_ = './faster-rcnn_r50_fpn.py'
model = dict(
    type='MaskRCNN',
    roi_head=dict(mask_roi_size=14, mask_channels=(256, 256, 256, 256)),
    test_cfg=dict(rcnn=dict(mask_thr_binary=0.5)))
