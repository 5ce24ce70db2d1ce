#!/bin/bash
# Structured channel pruning on the UCI digits (docs/deploy.md, "Pruning"), every step through the ordinary tools:
# train the ResNet-18 baseline (seed 0, its config's 10 epochs), prune it by BN scale at each RATIO, test it as pruned, fine-tune
# each pruned model for FT_EPOCHS epochs (lr FT_LR, cosine) at each of SEEDS, test every run, then time the eager
# fp32 forward of every pruned, fine-tuned seed-0 model against the baseline (tools/benchmark_deploy.py configs).
#
#   OMP_NUM_THREADS=2 bash tools/demos/prune_digits.sh    # from the repository root; ~15 min on 2 cores
#
# Environment: W (work folder, default work_dirs/prune_digits), PY (python), RATIOS ("0.5 0.75"), SEEDS ("0 1 2"),
# FT_EPOCHS (4), FT_LR (0.01); BASE_EPOCHS (10) and ROUNDS (15) only to smoke-test the script quickly. Every test's
# top-1 is appended to $W/results.txt as "run top1".
set -euo pipefail
W=${W:-work_dirs/prune_digits}
PY=${PY:-python}
RATIOS=${RATIOS:-0.5 0.75}
SEEDS=${SEEDS:-0 1 2}
FT_EPOCHS=${FT_EPOCHS:-4}
FT_LR=${FT_LR:-0.01}
BASE_EPOCHS=${BASE_EPOCHS:-10}
ROUNDS=${ROUNDS:-15}
CFG=configs/classification/resnet18_digits.py
source "$(dirname "$0")/common.sh"

$PY tools/data/fetch_data.py digits
$PY tools/train.py $CFG --work-dir "$W/base" --cfg-options randomness.seed=0 train_cfg.max_epochs="$BASE_EPOCHS"
top1 base $CFG "$W/base/epoch_$BASE_EPOCHS.pth"
models=($CFG "$W/base/epoch_$BASE_EPOCHS.pth")
for r in $RATIOS; do
  $PY tools/prune.py $CFG "$W/base/epoch_$BASE_EPOCHS.pth" --ratio "$r" --criterion bn --out "$W/r$r"
  top1 "r$r-no-ft" "$W/r$r/resnet18_digits_pruned.py" "$W/r$r/pruned.pth"
  for s in $SEEDS; do
    $PY tools/train.py "$W/r$r/resnet18_digits_pruned.py" --work-dir "$W/r$r-ft$s" --cfg-options \
        randomness.seed="$s" train_cfg.max_epochs="$FT_EPOCHS" optim_wrapper.optimizer.lr="$FT_LR"
    top1 "r$r-ft-seed$s" "$W/r$r/resnet18_digits_pruned.py" "$W/r$r-ft$s/epoch_$FT_EPOCHS.pth"
  done
  models+=("$W/r$r/resnet18_digits_pruned.py" "$W/r$r-ft${SEEDS%% *}/epoch_$FT_EPOCHS.pth")
done
$PY tools/benchmark_deploy.py configs --models "${models[@]}" --rounds "$ROUNDS" --threads "${OMP_NUM_THREADS:-2}" \
    | tee "$W/benchmark.txt"
