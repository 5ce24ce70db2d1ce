#!/usr/bin/env bash
# Train on NPROC processes per node with torchrun: gloo on CPU, NCCL on GPU (chosen by the config's 'auto').
#   tools/dist_train.sh CONFIG NPROC [train.py args]
# Multi-node: NNODES=2 NODE_RANK=0|1 MASTER_ADDR=<node 0 address> PORT=29500 tools/dist_train.sh CONFIG 8
# PYTHON selects the interpreter (default: python).
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: $0 CONFIG NPROC [train.py args]" >&2
    exit 2
fi
CONFIG=$1
NPROC=$2
shift 2
exec "$(dirname "$0")/dist_run.sh" "$NPROC" tools/train.py "$CONFIG" --launcher pytorch "$@"
