#!/usr/bin/env bash
# Training on a Slurm cluster, like mmseg's tools/slurm_train.sh.
#   [GPUS=8] [GPUS_PER_NODE=8] bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py args]
# srun and its settings (GPUS, GPUS_PER_NODE, CPUS_PER_TASK, SRUN_ARGS, PORT,
# PYTHON): see slurm_launch.sh.
exec bash "$(dirname "$0")/slurm_launch.sh" "$1" "$2" train.py "$3" \
    --work-dir="$4" --launcher="slurm" "${@:5}"
