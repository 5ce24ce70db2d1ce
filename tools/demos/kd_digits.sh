#!/bin/bash
# Knowledge distillation on the UCI digits (docs/deploy.md, "Distillation"), through the ordinary tools: train the
# ResNet-50 teacher once (seed 0, TEACHER_EPOCHS), then at each of SEEDS train the ResNet-18 student twice, plain
# (resnet18_digits.py) and distilled from that teacher (resnet18_digits_kd.py, T = 4, weight 1), and test every final
# checkpoint (the last epoch, never a best-of-epochs pick) on the digits' validation split with the plain student
# config. Prints the table the docs quote.
#
#   OMP_NUM_THREADS=2 bash tools/demos/kd_digits.sh    # from the repository root; ~15 min on 2 cores
#
# Environment: W (work folder, default work_dirs/kd_digits), PY (python), SEEDS ("0 1 2"), TEACHER_EPOCHS (30: at
# its config's 10 epochs the ResNet-50 is below the ResNet-18 student, see docs/deploy.md); EPOCHS (the students',
# 10) only to smoke-test the script quickly. Every test's top-1 is appended to $W/results.txt as "run top1".
set -euo pipefail
W=${W:-work_dirs/kd_digits}
PY=${PY:-python}
SEEDS=${SEEDS:-0 1 2}
EPOCHS=${EPOCHS:-10}
TEACHER_EPOCHS=${TEACHER_EPOCHS:-30}
STUDENT=configs/classification/resnet18_digits.py
source "$(dirname "$0")/common.sh"

$PY tools/data/fetch_data.py digits
$PY tools/train.py configs/classification/resnet50_digits.py --work-dir "$W/teacher" \
    --cfg-options randomness.seed=0 train_cfg.max_epochs="$TEACHER_EPOCHS"
top1 teacher configs/classification/resnet50_digits.py "$W/teacher/epoch_$TEACHER_EPOCHS.pth"
for s in $SEEDS; do
  $PY tools/train.py $STUDENT --work-dir "$W/plain$s" --cfg-options randomness.seed="$s" train_cfg.max_epochs="$EPOCHS"
  top1 "plain-seed$s" $STUDENT "$W/plain$s/epoch_$EPOCHS.pth"
  $PY tools/train.py configs/classification/resnet18_digits_kd.py --work-dir "$W/kd$s" --cfg-options \
      randomness.seed="$s" train_cfg.max_epochs="$EPOCHS" model.teacher_checkpoint="$W/teacher/epoch_$TEACHER_EPOCHS.pth"
  top1 "kd-seed$s" $STUDENT "$W/kd$s/epoch_$EPOCHS.pth"
done
echo; echo "top-1 on the digits' validation split (teacher ResNet-50 seed 0; student ResNet-18):"
$PY - "$W/results.txt" <<'PYEOF'
import sys
rows = dict(line.split() for line in open(sys.argv[1]) if line.strip())
seeds = sorted({k.split('seed')[1] for k in rows if 'seed' in k}, key=int)
print(f"  teacher        {float(rows['teacher']):.2f}")
for kind in ('plain', 'kd'):
    values = [float(rows[f'{kind}-seed{s}']) for s in seeds]
    print(f'  student {kind:6s} ' + ' / '.join(f'{v:.2f}' for v in values) + f'   mean {sum(values) / len(values):.2f}')
PYEOF
