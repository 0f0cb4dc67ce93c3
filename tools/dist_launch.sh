#!/usr/bin/env bash
# torchrun launcher shared by dist_train.sh and dist_test.sh.
#   bash tools/dist_launch.sh NPROC SCRIPT [script args]
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR, PORT (torchrun's standard
# rendezvous settings) on every node. PYTHON picks the interpreter (default:
# python on PATH).
set -e
NPROC=$1
SCRIPT=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}

PYTHONPATH="$(dirname "$0")/..":$PYTHONPATH \
exec ${PYTHON:-python} -m torch.distributed.run \
    --nnodes=$NNODES \
    --node_rank=$NODE_RANK \
    --master_addr=$MASTER_ADDR \
    --nproc_per_node=$NPROC \
    --master_port=$PORT \
    "$(dirname "$0")/$SCRIPT" "${@:3}"
