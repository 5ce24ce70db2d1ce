# Glint360K (17.1M faces, 360,232 identities; insightface's glint360k folder of train.rec/.idx) with IResNet-100
# and ArcFace, weight decay 1e-4 as arcface_torch's glint360k configs. (Its own glint360k_r100 uses the CosFace
# margin: margins=(1.0, 0.0, 0.4).)
_base_ = ['./iresnet100_8xb128_ms1mv2_arcface.py']
data_root = 'data/glint360k'
model = dict(num_classes=360232)
train_dataloader = dict(dataset=dict(data_root=data_root, num_classes=360232))
val_dataloader = dict(
    dataset=dict(bin_file=[f'{data_root}/lfw.bin', f'{data_root}/cfp_fp.bin', f'{data_root}/agedb_30.bin']))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(weight_decay=1e-4))
