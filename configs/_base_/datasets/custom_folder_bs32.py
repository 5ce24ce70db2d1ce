# Your own images as ImageNet-style folders: data/custom/{train,val}/<class_name>/<image>, 224x224 crops with the
# ImageNet pipelines. Point elsewhere with --cfg-options train_dataloader.dataset.data_root=... (and val/test).
_base_ = ['./imagenet_bs32.py']
data_root = 'data/custom'
train_dataloader = dict(num_workers=4, dataset=dict(data_root=f'{data_root}/train'))
val_dataloader = dict(num_workers=4, dataset=dict(data_root=f'{data_root}/val'))
test_dataloader = val_dataloader
