# unet_r34_nuclei.py trained with bf16 autocast on CPU (docs/deploy.md: CPU training switch).
_base_ = ['./unet_r34_nuclei.py']
# fused=True: torch's one-kernel AdamW step instead of its per-parameter loop, a cost bf16 does not shrink
# (docs/deploy.md, CPU training switch, measures both).
optim_wrapper = dict(type='CPUAmpOptimWrapper', optimizer=dict(fused=True))
# No ChannelsLastHook here: channels_last weights do not pay for this U-Net. They once made the fused AdamW copy
# every weight, moment and gradient each step (1.51-1.58x fp32 per step without them, 1.44-1.49x with); since the
# hook steps them in memory order, the two read level (1.01-1.02x; docs/deploy.md, CPU training switch).
