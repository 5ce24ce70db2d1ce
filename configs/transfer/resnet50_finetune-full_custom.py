# Full fine-tune: every layer learns, the pretrained backbone at a tenth of the head's learning rate.
_base_ = ['../_base_/models/resnet50_pretrained.py', '../_base_/datasets/custom_folder_bs32.py',
          '../_base_/schedules/sgd_finetune_30e.py', '../_base_/default_runtime.py']
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.1)}))
