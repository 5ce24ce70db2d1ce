# unet_r34_nuclei.py trained with bf16 autocast and channels_last on CPU (docs/deploy.md: CPU training switch).
_base_ = ['./unet_r34_nuclei.py']
optim_wrapper = dict(type='CPUAmpOptimWrapper')
custom_hooks = [dict(type='EvalProgressHook'), dict(type='ChannelsLastHook')]
