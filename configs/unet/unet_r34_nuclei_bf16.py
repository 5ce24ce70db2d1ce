# unet_r34_nuclei.py trained with bf16 autocast and channels_last on CPU (docs/deploy.md: CPU training switch).
_base_ = ['./unet_r34_nuclei.py']
# fused=True: torch's one-kernel AdamW step instead of its per-parameter loop, a cost bf16 does not shrink
# (docs/deploy.md, CPU training switch, measures both).
optim_wrapper = dict(type='CPUAmpOptimWrapper', optimizer=dict(fused=True))
custom_hooks = [dict(type='EvalProgressHook'), dict(type='ChannelsLastHook')]
