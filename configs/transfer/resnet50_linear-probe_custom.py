# Linear probe: the pretrained backbone is frozen (stem + all 4 stages, BN statistics fixed), only the fc learns.
_base_ = ['../_base_/models/resnet50_pretrained.py', '../_base_/datasets/custom_folder_bs32.py',
          '../_base_/schedules/sgd_finetune_30e.py', '../_base_/default_runtime.py']
model = dict(backbone=dict(frozen_stages=4, norm_eval=True))
optim_wrapper = dict(optimizer=dict(lr=0.1, weight_decay=0.0))
