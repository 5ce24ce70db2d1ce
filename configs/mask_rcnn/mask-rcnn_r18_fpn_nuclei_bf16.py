# mask-rcnn_r18_fpn_nuclei.py trained with bf16 autocast and channels_last on CPU (docs/deploy.md).
_base_ = ['./mask-rcnn_r18_fpn_nuclei.py']
optim_wrapper = dict(type='CPUAmpOptimWrapper')
custom_hooks = [dict(type='EvalProgressHook'), dict(type='ChannelsLastHook')]
