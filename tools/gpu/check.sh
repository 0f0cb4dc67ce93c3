#!/usr/bin/env bash
# GPU end-to-end check of mmseg_lrp, in ONE call of the device tool (docs/
# gpu_check.md). The GPU machine has Python 3.12 and torch 2.11 (CUDA) but no
# OpenMMLab and no network, so the stack comes from the wheels that
# tools/gpu/fetch_wheels.sh put into .gpu_wheels/ (carried with the tree).
#
#   bash tools/gpu/check.sh                        # on the GPU machine
#   DEVICE=cpu QUICK=1 PYTHON=/path/python bash tools/gpu/check.sh   # dry run
#
# Stages, each under its own time budget and all under one deadline
# (TOTAL_BUDGET seconds from the start, minus RESERVE kept for the last
# stage and the report); a stage that fails is recorded and the next one
# runs; a stage whose input is missing is recorded as skipped:
#   install        runtime wheels + mmcv 2.1.0 built from source (CPU ops) +
#                  the repository, then `import mmcv.ops, mmseg, mmpretrain,
#                  mmseg_lrp.plugin`
#   oracle         LRP-0 heatmaps == gradient x input in float64 on DEVICE
#                  (lrp_gpu_check.py; needs torch only)
#   toy_data       the embedded toy VOC (smaller image pool), labels, splits
#   train_fp32     toy stage 1 (classifier) + stage 2 (unrolled LRP from it)
#   test_fp32      tools/test.py on the stage-2 checkpoint of train_fp32
#   benchmark      benchmark.py: UNet-R50, DeepLabV3-R50, LRP-R50 at 256x256
#   train_amp      as train_fp32 with --amp (AmpOptimWrapper, fp16; the
#                  decoder runs in fp32, see docs/model.md)
#   benchmark_lrp  benchmark_lrp.py: the LRP decoder's schedules on R-50
#   amp_grad       tests/test_lrp_grad.py on DEVICE: the seg-loss gradient
#                  == double backprop's (float64), and under autocast no
#                  further from it than double backprop's own
#   env            nvidia-smi, torch / CUDA / package versions
# Results: $OUT/gpu_check.json (rewritten after every stage, so a run cut
# short still returns what it did), $OUT/gpu_check.log (everything printed),
# $OUT/benchmark*.json, $OUT/runs_logs.tar.gz (the runs' logs and scalars).
#
# Settings (environment):
#   DEVICE=cuda  QUICK=0 (1: tiny sizes and iterations, for a dry run)
#   OUT=./work_dirs/gpu_check  WHEELS=.gpu_wheels  PYTHON=python3
#   WORK=/tmp/gpu_check (data, runs, build)  SITE=$WORK/site (install target)
#   TOTAL_BUDGET=540  RESERVE=25  BUILD_TIMEOUT=240  MAX_JOBS=$(nproc)
#   BUDGET_SCALE=1: multiplies every stage's own budget (a CPU dry run
#     needs more; the deadline TOTAL_BUDGET still holds)
#   MMCV=auto (build from source, fall back to WHEELS/prebuilt if that
#     fails) | source | prebuilt
#   KEEP_MMCV_WHEEL=DIR: copy the mmcv wheel built here into DIR
#   STAGES="install oracle ...": run only these (default: all)
#   S1_ITERS, S1_VAL, S2_ITERS, S2_VAL, TOY_IMAGES: toy training lengths
# Not `set -e`: a failing stage must not end the check; each stage function
# runs with `set -eo pipefail` in its own shell under `timeout`.
set -uo pipefail

cd "$(dirname "$0")/../.."
REPO=$(pwd)
export REPO
export DEVICE=${DEVICE:-cuda}
export QUICK=${QUICK:-0}
export OUT=${OUT:-./work_dirs/gpu_check}
export WHEELS=${WHEELS:-.gpu_wheels}
export PYTHON=${PYTHON:-python3}
export WORK=${WORK:-/tmp/gpu_check}
export SITE=${SITE:-$WORK/site}
export MMCV=${MMCV:-auto}
export KEEP_MMCV_WHEEL=${KEEP_MMCV_WHEEL:-}
export BUILD_TIMEOUT=${BUILD_TIMEOUT:-240}
export MAX_JOBS=${MAX_JOBS:-$(nproc)}
TOTAL_BUDGET=${TOTAL_BUDGET:-540}
RESERVE=${RESERVE:-25}
BUDGET_SCALE=${BUDGET_SCALE:-1}
STAGES=${STAGES:-install oracle amp_grad toy_data train_fp32 test_fp32 \
benchmark train_amp benchmark_lrp env}
if [ "$QUICK" = 1 ]; then
  export TOY_IMAGES=${TOY_IMAGES:-400} S1_ITERS=${S1_ITERS:-20}
  export S1_VAL=${S1_VAL:-20} S2_ITERS=${S2_ITERS:-10} S2_VAL=${S2_VAL:-10}
  export LOG_INTERVAL=5
else
  export TOY_IMAGES=${TOY_IMAGES:-2000} S1_ITERS=${S1_ITERS:-600}
  export S1_VAL=${S1_VAL:-300} S2_ITERS=${S2_ITERS:-200}
  export S2_VAL=${S2_VAL:-100} LOG_INTERVAL=25
fi
mkdir -p "$OUT" "$WORK"
OUT=$(cd "$OUT" && pwd)
WHEELS=$(cd "$WHEELS" 2>/dev/null && pwd || echo "$REPO/$WHEELS")
export OUT WHEELS
export TOY=$WORK/toy_voc/VOC2012
export STAGE_DIR=$WORK/stages
export PYTHONUNBUFFERED=1 PIP_ROOT_USER_ACTION=ignore
# Everything the stages run sees the installed wheels and the repository;
# only the mmcv build also sees setuptools<80 (build_site, first).
export PYTHONPATH=$SITE:$REPO${PYTHONPATH:+:$PYTHONPATH}
rm -rf "$STAGE_DIR"
mkdir -p "$STAGE_DIR"
rm -f "$OUT/gpu_check.log"
exec > >(tee -a "$OUT/gpu_check.log") 2>&1
TEE_PID=$!
T_START=$(date +%s)
export T_START
echo "[gpu_check] $(date -u +%FT%TZ) repo $REPO, DEVICE=$DEVICE QUICK=$QUICK" \
  "PYTHON=$PYTHON WORK=$WORK OUT=$OUT budget ${TOTAL_BUDGET}s"

# The configs of tools/demo.py (make demo): stage 1 and unrolled LRP.
T=configs/toy_experiment/unrolled-lrp_r18-cifar-c16
export STAGE1_CONFIG=${T}_1xb16-3000iter_toyvoc-cls-64x64.py
export STAGE2_CONFIG=${T}_1xb8-300iter_toyvoc-semi-64x64.py
# The configs of the README's "Cost" section / docs/benchmarks.md (whole
# configs side by side); the UNet first: benchmark.py gives ratios to it.
B=1xb10-20k_voc12
export BENCH_CONFIGS="configs/baselines/unet_r50_$B-pixel20-256x256.py
configs/baselines/deeplabv3_r50-d8_$B-pixel20-256x256.py
configs/unrolled_lrp/unrolled-lrp_r50_$B-semi20-256x256.py"
export LRP_MODEL_CONFIG=configs/_base_/models/unrolled-lrp_r50.py

# ---------------------------------------------------------------- helpers
# note KEY VALUE: a number or string for the stage's entry in the JSON.
note() {
  printf '%s\t%s\n' "$1" "$2" >>"$STAGE_DIR/$CURRENT_STAGE.notes"
}

# elapsed T0: seconds since T0 (a `date +%s.%N`), one decimal; awk, as bc
# may be missing.
elapsed() {
  awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'
}

# A tool run whose output also goes to its own log (for the error's tail).
logged() {
  local log=$1
  shift
  echo "+ $*"
  "$@" 2>&1 | tee "$log"
}

# ---------------------------------------------------------------- stages
stage_install() {
  set -eo pipefail
  local t0 pytag torch_version wheel
  # Run pip without our PYTHONPATH: it must see the interpreter's own
  # packages only (the target is filled from scratch, --no-deps).
  t0=$(date +%s.%N)
  env -u PYTHONPATH "$PYTHON" -m pip install -q --no-index --no-deps \
    --no-compile --no-cache-dir --upgrade --target "$SITE" "$WHEELS"/*.whl
  env -u PYTHONPATH "$PYTHON" -m pip install -q --no-index --no-deps \
    --no-compile --no-cache-dir --upgrade --target "$WORK/build_site" \
    "$WHEELS"/build/setuptools-*.whl
  note wheels_seconds "$(elapsed "$t0")"
  note wheels "$(find "$WHEELS" -maxdepth 1 -name '*.whl' | wc -l)"

  torch_version=$(env -u PYTHONPATH "$PYTHON" -c \
    'import torch; print(torch.__version__)')
  pytag=$("$PYTHON" -c 'import sys; print("cp%d%d" % sys.version_info[:2])')
  note torch "$torch_version"
  rm -rf "$WORK/mmcv_dist"
  mkdir -p "$WORK/mmcv_dist"
  local built=0
  if [ "$MMCV" != prebuilt ]; then
    echo "[install] building mmcv 2.1.0 (CPU ops) against torch" \
      "$torch_version, MAX_JOBS=$MAX_JOBS, limit ${BUILD_TIMEOUT}s"
    # The C++20 wrapper of tools/setup_env.py (torch >= 2.10 headers need
    # C++20; mmcv's setup.py passes -std=c++17 after all user flags).
    local cxx
    cxx=$("$PYTHON" -c 'import sys; sys.path.insert(0, "tools")
from setup_env import write_cxx_wrapper
print(write_cxx_wrapper(sys.argv[1], sys.argv[2]))' "$WORK" "${CXX:-g++}")
    t0=$(date +%s.%N)
    # CUDA_VISIBLE_DEVICES= and FORCE_CUDA=0: mmcv's setup.py sees no GPU
    # and builds the CPU ops only (77 C++ files; what mmseg imports, and
    # what the plugin uses, nms etc. on CPU tensors).
    if env CUDA_VISIBLE_DEVICES= FORCE_CUDA=0 MMCV_WITH_OPS=1 \
      MAX_JOBS="$MAX_JOBS" CXX="$cxx" PYTHONPATH="$WORK/build_site" \
      timeout --kill-after=10 "$BUILD_TIMEOUT" \
      "$PYTHON" -m pip wheel --no-deps --no-build-isolation --no-index \
      --no-cache-dir -w "$WORK/mmcv_dist" "$WHEELS"/src/mmcv-2.1.0.tar.gz
    then
      built=1
    else
      echo "[install] mmcv build FAILED (rc $?)"
    fi
    note mmcv_build_seconds "$(elapsed "$t0")"
  fi
  if [ "$built" = 1 ]; then
    wheel=$(ls "$WORK"/mmcv_dist/mmcv-2.1.0-*.whl)
    note mmcv_from "built here from source"
    if [ -n "$KEEP_MMCV_WHEEL" ]; then
      mkdir -p "$KEEP_MMCV_WHEEL"
      cp "$wheel" "$KEEP_MMCV_WHEEL/"
      echo "$torch_version" >"$KEEP_MMCV_WHEEL/BUILT_AGAINST"
    fi
  elif [ "$MMCV" != source ] \
    && [ "$(cat "$WHEELS/prebuilt/BUILT_AGAINST" 2>/dev/null)" \
      = "$torch_version" ] \
    && ls "$WHEELS"/prebuilt/mmcv-2.1.0-"$pytag"-*.whl >/dev/null 2>&1; then
    # A wheel built by a dry run against the same torch build (a wheel
    # built against another torch must never be used).
    wheel=$(ls "$WHEELS"/prebuilt/mmcv-2.1.0-"$pytag"-*.whl)
    note mmcv_from "prebuilt wheel (dry run, same torch)"
  else
    echo "[install] no mmcv: build failed or skipped, and no prebuilt" \
      "$pytag wheel built against torch $torch_version in $WHEELS/prebuilt"
    return 1
  fi
  env -u PYTHONPATH "$PYTHON" -m pip install -q --no-index --no-deps \
    --no-compile --no-cache-dir --upgrade --target "$SITE" "$wheel"
  note mmcv_wheel "$(basename "$wheel")"

  # mmengine resolves the configs' `mmseg::` bases with pkg_resources at
  # run time. torch 2.11 asks for setuptools<82, which still has it; should
  # the environment's setuptools lack it all the same, the build's
  # setuptools<80 goes into the runtime target too.
  if "$PYTHON" -c 'import pkg_resources' 2>/dev/null; then
    note pkg_resources "the environment's setuptools"
  else
    echo "[install] no pkg_resources: adding setuptools<80 to $SITE"
    env -u PYTHONPATH "$PYTHON" -m pip install -q --no-index --no-deps \
      --no-compile --no-cache-dir --upgrade --target "$SITE" \
      "$WHEELS"/build/setuptools-*.whl
    note pkg_resources "setuptools<80 added to SITE"
  fi

  # The repository itself is importable through PYTHONPATH (no install
  # into the read-only environment needed).
  "$PYTHON" - <<'EOF' | tee "$WORK/versions.txt"
import mmcv
import mmcv.ops
from mmcv.ops import nms  # noqa: F401  (compiled ops)
import mmengine
import mmpretrain
import mmseg
import mmseg_lrp.plugin  # registers the components
import torch
for m in (torch, mmengine, mmcv, mmseg, mmpretrain, mmseg_lrp):
    print(f'{m.__name__}\t{m.__version__}')
EOF
  while IFS=$'\t' read -r k v; do note "$k" "$v"; done <"$WORK/versions.txt"
}

stage_oracle() {
  set -eo pipefail
  # LRP-0 == gradient x input, float64, VGG16 and ResNet-50 (torchvision
  # encoders, the LRP core of mmseg_lrp.lrp); --sizes with no size: the
  # correctness part only. The pytest oracle tests (tests/test_lrp_core.py
  # etc.) build everything on the CPU and take no device, so they are not
  # run here.
  # PYTHONPATH without the installed stack: mmseg_lrp and its LRP core
  # import no OpenMMLab module, so this stage does not depend on the install
  # stage.
  local k=()
  [ "$QUICK" = 1 ] && k=(--num-classes 3)
  PYTHONPATH=$REPO logged "$WORK/oracle.log" "$PYTHON" \
    tools/analysis_tools/lrp_gpu_check.py --device "$DEVICE" --sizes "${k[@]}"
}

stage_toy_data() {
  set -eo pipefail
  logged "$WORK/toy_data.log" "$PYTHON" \
    tools/dataset_converters/make_toy_voc.py "$TOY" \
    --num-images "$TOY_IMAGES" --overwrite
  "$PYTHON" tools/dataset_converters/voc_image_labels.py "$TOY"
  "$PYTHON" tools/dataset_converters/make_voc_splits.py "$TOY" --num 10 30
  note images "$TOY_IMAGES"
}

# train_pair NAME [--amp]: stage 1 then stage 2 from its last checkpoint.
train_pair() {
  set -eo pipefail
  local name=$1 dir=$WORK/runs/$1 t0
  shift
  rm -rf "$dir"
  mkdir -p "$dir"
  t0=$(date +%s.%N)
  logged "$dir/stage1.log" "$PYTHON" tools/train.py "$STAGE1_CONFIG" "$@" \
    --work-dir "$dir/stage1" --data-root "$TOY" --cfg-options \
    train_cfg.max_iters="$S1_ITERS" train_cfg.val_interval="$S1_VAL" \
    default_hooks.checkpoint.interval="$S1_ITERS" \
    default_hooks.logger.interval="$LOG_INTERVAL"
  note stage1_seconds "$(elapsed "$t0")"
  t0=$(date +%s.%N)
  logged "$dir/stage2.log" "$PYTHON" tools/train.py "$STAGE2_CONFIG" "$@" \
    --work-dir "$dir/stage2" --data-root "$TOY" --cfg-options \
    load_from="$dir/stage1/iter_$S1_ITERS.pth" \
    train_cfg.max_iters="$S2_ITERS" train_cfg.val_interval="$S2_VAL" \
    default_hooks.checkpoint.interval="$S2_ITERS" \
    default_hooks.logger.interval="$LOG_INTERVAL"
  note stage2_seconds "$(elapsed "$t0")"
}

stage_train_fp32() { train_pair fp32; }

stage_train_amp() { train_pair amp --amp; }

stage_test_fp32() {
  set -eo pipefail
  local dir=$WORK/runs/fp32 ckpt
  # The best validation checkpoint, as tools/demo.py tests it.
  ckpt=$(find "$dir/stage2" -maxdepth 1 -name 'best_mIoU_iter_*.pth' \
    | sort -V | tail -1)
  if [ -z "$ckpt" ]; then
    echo "no best_mIoU checkpoint in $dir/stage2"
    return 1
  fi
  note checkpoint "$(basename "$ckpt")"
  rm -rf "$dir/test"
  logged "$dir/test.log" "$PYTHON" tools/test.py "$STAGE2_CONFIG" "$ckpt" \
    --work-dir "$dir/test" --data-root "$TOY"
}

stage_benchmark() {
  set -eo pipefail
  local a=(--shape 256 256 --batch-size 10 --pixel-labelled 5)
  [ "$QUICK" = 1 ] && a=(--shape 64 64 --batch-size 2 --pixel-labelled 1
    --iters 1 --warmup 1)
  # shellcheck disable=SC2086  # one config per word
  logged "$WORK/benchmark.log" "$PYTHON" tools/analysis_tools/benchmark.py \
    $BENCH_CONFIGS "${a[@]}" --device "$DEVICE" --out "$OUT/benchmark.json"
}

stage_benchmark_lrp() {
  set -eo pipefail
  # The schedules of docs/benchmarks.md: exact one-pass, memory-bounded in
  # class chunks of 7, present-class decoding (masks with 2 object
  # classes), the original code's per-class schedule, and one plain
  # classifier step (the unit C of the table).
  local a=(--shape 256 256 --batch-size 4 --labelled 2 --num-classes 21)
  [ "$QUICK" = 1 ] && a=(--shape 64 64 --batch-size 2 --labelled 1
    --num-classes 5 --iters 1 --warmup 0)
  logged "$WORK/benchmark_lrp.log" "$PYTHON" \
    tools/analysis_tools/benchmark_lrp.py "$LRP_MODEL_CONFIG" "${a[@]}" \
    --mask-classes 2 --schedules one-pass memory-bounded:7 present:2 \
    original classifier --device "$DEVICE" --out "$OUT/benchmark_lrp.json"
}

stage_amp_grad() {
  set -eo pipefail
  MMSEG_LRP_TEST_DEVICE=$DEVICE logged "$WORK/amp_grad.log" "$PYTHON" -m \
    pytest -q -p no:cacheprovider tests/test_lrp_grad.py
}

stage_env() {
  set -o pipefail
  if command -v nvidia-smi >/dev/null; then
    nvidia-smi | tee "$WORK/nvidia-smi.txt"
    nvidia-smi --query-gpu=name,driver_version,memory.total \
      --format=csv,noheader | tee "$WORK/nvidia-smi.csv"
  else
    echo "no nvidia-smi" | tee "$WORK/nvidia-smi.txt"
  fi
  "$PYTHON" tools/gpu/report.py env "$WORK/env.json"
}

# ---------------------------------------------------------------- driver
export -f note elapsed logged train_pair stage_install stage_oracle \
  stage_toy_data stage_train_fp32 stage_train_amp stage_test_fp32 \
  stage_benchmark stage_benchmark_lrp stage_amp_grad stage_env

# status NAME: ok / failed / timeout / skipped / not run
status() {
  if [ -f "$STAGE_DIR/$1.json" ]; then
    sed -n 's/.*"status": "\([a-z]*\)".*/\1/p' "$STAGE_DIR/$1.json"
  else
    echo "not run"
  fi
}

ORDER=0
record() {  # record NAME STATUS RC SECONDS BUDGET WHY
  ORDER=$((ORDER + 1))
  printf '{"name": "%s", "status": "%s", "rc": %s, "seconds": %s, ' \
    "$1" "$2" "$3" "$4" >"$STAGE_DIR/$1.json"
  printf '"budget_s": %s, "order": %s, "why": "%s"}\n' "$5" "$ORDER" \
    "$6" >>"$STAGE_DIR/$1.json"
}

report() {
  "$PYTHON" tools/gpu/report.py collect "$WORK" "$OUT/gpu_check.json" \
    || echo "[gpu_check] report.py failed"
}

# run_stage NAME WANT_SECONDS [NEEDED_STAGE ...]
run_stage() {
  local name=$1 want=$2 dep left secs t0 dt rc st
  shift 2
  case " $STAGES " in *" $name "*) ;; *) return 0 ;; esac
  for dep in "$@"; do
    if [ "$(status "$dep")" != ok ]; then
      echo "[gpu_check] skip $name: $dep is $(status "$dep")"
      record "$name" skipped null 0 0 "needs $dep ($(status "$dep"))"
      report
      return 0
    fi
  done
  # The last stage (env) may use the reserve; the others stop before it.
  left=$((T_START + TOTAL_BUDGET - $(date +%s)))
  [ "$name" = env ] || left=$((left - RESERVE))
  secs=$((want * BUDGET_SCALE))
  [ "$left" -lt "$secs" ] && secs=$left
  if [ "$secs" -lt 10 ]; then
    echo "[gpu_check] skip $name: ${left}s left"
    record "$name" skipped null 0 0 "out of time (${left}s left)"
    report
    return 0
  fi
  echo
  echo "=============== $name (up to ${secs}s; $(($(date +%s) - T_START))s" \
    "since the start) ==============="
  rm -f "$STAGE_DIR/$name.notes"
  t0=$(date +%s.%N)
  # timeout (not --foreground) signals the stage's whole process group.
  CURRENT_STAGE=$name timeout --kill-after=10 "$secs" bash -c "stage_$name" \
    2>&1 | tee "$STAGE_DIR/$name.log"
  rc=${PIPESTATUS[0]}
  dt=$(elapsed "$t0")
  case $rc in
    0) st=ok ;;
    124 | 137) st=timeout ;;
    *) st=failed ;;
  esac
  echo "=============== $name: $st (rc $rc, ${dt}s)"
  record "$name" "$st" "$rc" "$dt" "$secs" ""
  report
}

# Budgets on the GPU machine (seconds); the deadline cuts the later ones.
run_stage install $((BUILD_TIMEOUT + 60))
run_stage oracle 90
run_stage amp_grad 60 install
run_stage toy_data 60 install
run_stage train_fp32 150 toy_data
run_stage test_fp32 60 train_fp32
run_stage benchmark 150 install
run_stage train_amp 150 toy_data
run_stage benchmark_lrp 120 install
run_stage env 30

# The runs' logs and scalars (no checkpoints) as one file: $OUT brings back
# at most 8 files.
(cd "$WORK" && find runs stages -type f \( -name '*.log' -o -name '*.json' \
  -o -name '*.notes' -o -name '*.py' \) -print0 2>/dev/null \
  | tar czf "$OUT/runs_logs.tar.gz" --null -T -) || true
report
echo "[gpu_check] done in $(($(date +%s) - T_START))s:" \
  "$(sed -n 's/.*"status": "\([a-z]*\)".*/\1/p' "$STAGE_DIR"/*.json \
  | sort | uniq -c | tr '\n' ' ')"
echo "[gpu_check] results: $OUT/gpu_check.json"
# Let tee write the last lines before the call returns and $OUT is read.
exec >&- 2>&-
wait "$TEE_PID" 2>/dev/null || sleep 1
# Exit status: 1 if any stage failed or ran out of its time, else 0.
! grep -qE '"status": "(failed|timeout)"' "$STAGE_DIR"/*.json
