#!/usr/bin/env bash
# Evaluate a checkpoint on NPROC processes per node with torchrun (gloo on CPU, NCCL on GPU).
#   tools/dist_test.sh CONFIG CHECKPOINT NPROC [test.py args]
# Multi-node: NNODES, NODE_RANK, MASTER_ADDR, PORT as for dist_train.sh. PYTHON selects the interpreter.
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "usage: $0 CONFIG CHECKPOINT NPROC [test.py args]" >&2
    exit 2
fi
CONFIG=$1
CHECKPOINT=$2
NPROC=$3
shift 3
exec "$(dirname "$0")/dist_run.sh" "$NPROC" tools/test.py "$CONFIG" "$CHECKPOINT" --launcher pytorch "$@"
