# Runtime shared by every config: registry scope, runner, hooks, logging, environment.
default_scope = 'resbackbones'
# SafeRunner = mmengine's Runner + checkpoints that load with torch.load(weights_only=True), written atomically,
# auto backend (gloo on CPU, NCCL on GPU) and SyncBN fallback. See docs/training.md.
runner_type = 'SafeRunner'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),  # text log <work_dir>/<time>/<time>.log + json in vis_data/
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3, save_best='auto'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)
custom_hooks = [dict(type='EvalProgressHook')]  # progress bar with ETA over validation/test epochs

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='auto'),  # 'auto': NCCL when CUDA is available, else gloo
)

# Scalars go to <work_dir>/<time>/vis_data/scalars.json (tools/analysis/plot_curves.py reads it).
# TensorBoard (pip install 'resbackbones[tensorboard]'), then: tensorboard --logdir work_dirs
#   vis_backends = [dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')]
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends)
log_processor = dict(type='LogProcessor', window_size=10, by_epoch=True)
log_level = 'INFO'

load_from = None
resume = False
randomness = dict(seed=0, deterministic=False)
