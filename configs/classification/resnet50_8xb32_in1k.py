# ResNet-50 on ImageNet-1k, the paper's recipe: 8 processes x 32 images = 256, SGD lr 0.1, 90 epochs, lr / 10 at
# epochs 30, 60, 80. Data: data/imagenet/{train,val}/<wnid>/<image>.JPEG (see docs/training.md).
#   tools/dist_train.sh configs/classification/resnet50_8xb32_in1k.py 8
# Other process counts: add --auto-scale-lr (lr scales with the total batch, base 256).
_base_ = ['../_base_/models/resnet50.py', '../_base_/datasets/imagenet_bs32.py',
          '../_base_/schedules/sgd_step_90e.py', '../_base_/default_runtime.py']
default_hooks = dict(logger=dict(interval=100))
