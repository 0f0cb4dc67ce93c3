#!/usr/bin/env bash
# Distributed training with torchrun, like mmseg's tools/dist_train.sh.
#   bash tools/dist_train.sh CONFIG GPUS [train.py args]
# Multi-node and interpreter settings: see dist_launch.sh.
set -e
exec bash "$(dirname "$0")/dist_launch.sh" "$2" train.py "$1" \
    --launcher pytorch "${@:3}"
