# arcface_torch's ms1mv2_r50: IResNet-50, 512-d embedding, ArcFace (s=64, m=0.5) with the class centres sharded
# over the GPUs (PartialFCHead, sample rate 1), 8 x 128 faces per step, 20 epochs. tools/dist_train.sh CONFIG 8 --amp
_base_ = ['../_base_/models/arcface_iresnet50.py', '../_base_/datasets/ms1mv2_rec.py',
          '../_base_/schedules/arcface_poly_20e.py', '../_base_/default_runtime.py']
model = dict(num_classes=85742, flip_test=True,
             margin_head=dict(_delete_=True, type='PartialFCHead', scale=64.0, margins=(1.0, 0.5, 0.0)))
# train_v2.py clips the network's gradient norm (IResNet and embedding, not the class centres) to 5 before each step
custom_hooks = [dict(type='EvalProgressHook'),
                dict(type='PartGradClipHook', parts=('backbone', 'embedding'), max_norm=5.0)]
