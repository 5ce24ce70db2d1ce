# 3D U-Net (VolumeResNet-18) for grey/white matter on MNI152, trained on the left hemisphere and scored on the
# right (no shared voxel); CPU-sized: half-width encoder, small decoder, 64^3 patches. From scratch.
#   python tools/train.py configs/unet3d/unet3d_r18_mni-tissue.py
#   python tools/test.py configs/unet3d/unet3d_r18_mni-tissue.py work_dirs/unet3d_r18_mni-tissue/iter_350.pth
_base_ = ['../_base_/models/unet3d_r18.py', '../_base_/datasets/mni_tissue_3d.py',
          '../_base_/schedules/adamw_cosine_iters.py']
# GroupNorm for the reason given in configs/unet/unet_r34_mni-tissue.py (batches of two patches make batch
# statistics unreliable); inference windows match the 64^3 training patches, since GN statistics depend on them.
norm = dict(type='GN', num_groups=8)
model = dict(backbone=dict(base_channels=16, norm_cfg=norm),
             decoder=dict(decoder_channels=(64, 32, 32, 16, 16), norm_cfg=norm), num_classes=3, input_skip=True,
             test_cfg=dict(patch_size=(64, 64, 64), overlap=0.5, batch_size=2))
train_cfg = dict(max_iters=350)
