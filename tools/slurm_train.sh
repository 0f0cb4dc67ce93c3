#!/usr/bin/env bash
# Training on a Slurm cluster, like mmseg's tools/slurm_train.sh: srun starts
# one task per GPU, and train.py's --launcher slurm reads the rank, world size
# and first node (MASTER_ADDR) from Slurm's variables.
#   [GPUS=8] [GPUS_PER_NODE=8] bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py args]
# GPUS: all tasks (default 4); GPUS_PER_NODE (default 4); CPUS_PER_TASK
# (default 5); SRUN_ARGS: more srun options; PORT: MASTER_PORT (default
# 29500); PYTHON: the interpreter (default: python on PATH).
set -x

PARTITION=$1
JOB_NAME=$2
CONFIG=$3
WORK_DIR=$4
GPUS=${GPUS:-4}
GPUS_PER_NODE=${GPUS_PER_NODE:-4}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
PY_ARGS=${@:5}

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
    ${PYTHON:-python} -u "$(dirname "$0")/train.py" ${CONFIG} \
    --work-dir=${WORK_DIR} --launcher="slurm" ${PY_ARGS}
