# mask-rcnn_r18_fpn_nuclei.py trained with bf16 autocast and channels_last on CPU (docs/deploy.md).
_base_ = ['./mask-rcnn_r18_fpn_nuclei.py']
# fused=True: torch's one-kernel AdamW step; its per-parameter loop took ~130 ms of a ~350 ms bf16 U-Net step.
optim_wrapper = dict(type='CPUAmpOptimWrapper', optimizer=dict(fused=True))
custom_hooks = [dict(type='EvalProgressHook'), dict(type='ChannelsLastHook')]
