#!/bin/bash
# CPU training with bf16 autocast + channels_last against fp32 (docs/deploy.md, "CPU training switch"): train
# CONFIG and its bf16 variant at each of SEEDS, alternating, test every final checkpoint with CONFIG (fp32), and
# print the mean seconds per training iteration (mmengine's logged 'time', first logged entry dropped) and the
# test metrics of every run, then the iterations/s ratio.
#
#   OMP_NUM_THREADS=2 bash tools/demos/bf16_training.sh configs/unet/unet_r34_nuclei.py \
#       configs/unet/unet_r34_nuclei_bf16.py          # ~15 min on 2 cores
#
# Environment: W (work folder, default work_dirs/bf16_training/<config name>), PY (python), SEEDS ("0 1 2"),
# OPTIONS (extra --cfg-options for every run, fp32 and bf16 alike; the switch configs use the fused AdamW, so a
# like-for-like comparison passes OPTIONS=optim_wrapper.optimizer.fused=True for the fp32 side too).
# Every run's line goes to $W/results.txt: "KIND seed S s_per_iter X METRICS-JSON".
set -euo pipefail
CFG=$1
BF16=$2
W=${W:-work_dirs/bf16_training/$(basename "$CFG" .py)}
PY=${PY:-python}
SEEDS=${SEEDS:-0 1 2}
OPTIONS=${OPTIONS:-}
source "$(dirname "$0")/common.sh"  # creates $W and an empty $W/results.txt

s_per_iter() {  # mean logged 'time' of a work dir's newest run, the first logged entry (warm-up) dropped
  $PY - "$1" <<'PYEOF'
import glob, json, os, sys
newest = sorted(glob.glob(os.path.join(sys.argv[1], '*', 'vis_data', 'scalars.json')))[-1]
times = [r['time'] for r in map(json.loads, open(newest)) if 'time' in r and 'loss' in r][1:]
print(f'{sum(times) / len(times):.4f}')
PYEOF
}

for s in $SEEDS; do
  for kind in fp32 bf16; do
    config=$CFG; [ "$kind" = bf16 ] && config=$BF16
    $PY tools/train.py "$config" --work-dir "$W/$kind$s" --cfg-options randomness.seed="$s" $OPTIONS
    json=$($PY tools/test.py "$CFG" "$(cat "$W/$kind$s/last_checkpoint")" --work-dir "$W/test/$kind$s" | tail -1)
    echo "$kind seed $s s_per_iter $(s_per_iter "$W/$kind$s") $json" | tee -a "$W/results.txt"
  done
done
$PY - "$W/results.txt" <<'PYEOF'
import sys
rows = [line.split(maxsplit=5) for line in open(sys.argv[1])]
mean = {k: sum(float(r[4]) for r in rows if r[0] == k) / sum(r[0] == k for r in rows) for k in ('fp32', 'bf16')}
print(f"\ns/iter fp32 {mean['fp32']:.4f}, bf16 {mean['bf16']:.4f}: bf16 iterations/s = {mean['fp32'] / mean['bf16']:.2f}x fp32")
for r in rows:
    print(f'  {r[0]} seed {r[2]}: {r[5].strip()}')
PYEOF
