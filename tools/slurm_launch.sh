#!/usr/bin/env bash
# srun launcher shared by slurm_train.sh and slurm_test.sh (mmseg's Slurm
# scripts): one task per GPU; the tool's --launcher slurm reads the rank,
# world size and first node (MASTER_ADDR) from Slurm's variables.
#   bash tools/slurm_launch.sh PARTITION JOB_NAME SCRIPT [script args]
# GPUS: all tasks (default 4); GPUS_PER_NODE (default 4); CPUS_PER_TASK
# (default 5); SRUN_ARGS: more srun options; PORT: MASTER_PORT (default
# 29500); PYTHON: the interpreter (default: python on PATH).
set -x

PARTITION=$1
JOB_NAME=$2
SCRIPT=$3
GPUS=${GPUS:-4}
GPUS_PER_NODE=${GPUS_PER_NODE:-4}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}

MASTER_PORT=${PORT:-${MASTER_PORT:-29500}} \
PYTHONPATH="$(dirname "$0")/..":$PYTHONPATH \
srun -p ${PARTITION} \
    --job-name=${JOB_NAME} \
    --gres=gpu:${GPUS_PER_NODE} \
    --ntasks=${GPUS} \
    --ntasks-per-node=${GPUS_PER_NODE} \
    --cpus-per-task=${CPUS_PER_TASK} \
    --kill-on-bad-exit=1 \
    ${SRUN_ARGS} \
    ${PYTHON:-python} -u "$(dirname "$0")/$SCRIPT" "${@:4}"
