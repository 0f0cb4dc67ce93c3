#!/usr/bin/env bash
# Distributed testing with torchrun, like mmseg's tools/dist_test.sh.
#   bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py args]
# Multi-node and interpreter settings: see dist_launch.sh.
set -e
exec bash "$(dirname "$0")/dist_launch.sh" "$3" test.py "$1" "$2" \
    --launcher pytorch "${@:4}"
