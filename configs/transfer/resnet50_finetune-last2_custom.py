# Fine-tune the last two stages: stem, layer1 and layer2 stay frozen; layer3, layer4 and the fc learn.
_base_ = ['../_base_/models/resnet50_pretrained.py', '../_base_/datasets/custom_folder_bs32.py',
          '../_base_/schedules/sgd_finetune_30e.py', '../_base_/default_runtime.py']
model = dict(backbone=dict(frozen_stages=2))
