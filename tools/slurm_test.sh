#!/usr/bin/env bash
# Testing on a Slurm cluster, like mmseg's tools/slurm_test.sh.
#   [GPUS=8] [GPUS_PER_NODE=8] bash tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py args]
# srun and its settings (GPUS, GPUS_PER_NODE, CPUS_PER_TASK, SRUN_ARGS, PORT,
# PYTHON): see slurm_launch.sh.
exec bash "$(dirname "$0")/slurm_launch.sh" "$1" "$2" test.py "$3" "$4" \
    --launcher="slurm" "${@:5}"
