# unet_r34_nuclei.py trained with bf16 autocast on CPU (docs/deploy.md: CPU training switch).
_base_ = ['./unet_r34_nuclei.py']
# fused=True: torch's one-kernel AdamW step instead of its per-parameter loop, a cost bf16 does not shrink
# (docs/deploy.md, CPU training switch, measures both).
optim_wrapper = dict(type='CPUAmpOptimWrapper', optimizer=dict(fused=True))
# No ChannelsLastHook here: channels_last weights make the fused AdamW step copy every weight, its moments and
# gradient in and out, which costs this U-Net more than its faster convolutions save (docs/deploy.md, CPU training
# switch: 1.51-1.58x fp32 per step without it, 1.44-1.49x with it, on an AMX Xeon); the Mask R-CNN gains from it.
