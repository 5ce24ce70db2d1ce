# The 2D slice U-Net of unet_r34_mni-tissue.py on the 3D config's hemisphere split (train on x < 98, evaluate on
# x >= 98: no shared voxel), for the 2D-vs-3D comparison in docs/segmentation.md.
#   python tools/train.py configs/unet/unet_r34_mni-tissue-hemi.py
#   python tools/test.py configs/unet/unet_r34_mni-tissue-hemi.py work_dirs/unet_r34_mni-tissue-hemi/iter_800.pth
_base_ = ['./unet_r34_mni-tissue.py']
train_dataloader = dict(dataset=dict(split_axis=0))
val_dataloader = dict(dataset=dict(split_axis=0))
test_dataloader = val_dataloader
