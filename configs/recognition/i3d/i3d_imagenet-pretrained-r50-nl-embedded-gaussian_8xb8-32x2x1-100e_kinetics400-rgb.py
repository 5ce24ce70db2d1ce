# I3D R50 with non-local blocks (mmaction2's config of the same name): embedded-Gaussian NonLocal3d after blocks 1
# and 3 of layer2 and 1, 3, 5 of layer3, keys subsampled 2x2, zero-initialised BN after conv_out. Model part only:
# the Kinetics-400 data and the 100-epoch schedule come from the dataset and schedule bases of the video configs.
_base_ = ['../../_base_/models/i3d_r50.py']
model = dict(backbone=dict(
    non_local=((0, 0, 0), (0, 1, 0, 1), (0, 1, 0, 1, 0, 1), (0, 0, 0)),
    non_local_cfg=dict(sub_sample=True, use_scale=False, norm_cfg=dict(type='BN3d', requires_grad=True),
                       mode='embedded_gaussian')))
