#!/usr/bin/env bash
# Download, HERE (a machine with a package registry), everything the GPU
# check (tools/gpu/check.sh) needs that the GPU machine lacks. The GPU machine
# has no network, Python 3.12 and torch 2.11.0+cu130 but no OpenMMLab, so the
# files travel with the working tree (`carry: [".gpu_wheels"]`):
#
#   .gpu_wheels/*.whl     pure-Python wheels, installed there with
#                         `pip install --no-index --no-deps --target`
#   .gpu_wheels/build/    setuptools<80, only for building mmcv (its setup.py
#                         imports pkg_resources); kept out of the runtime path
#   .gpu_wheels/src/      the mmcv 2.1.0 source package (no cp312 wheel exists)
#   .gpu_wheels/prebuilt/ optional, not written by this script: an mmcv
#                         wheel built against the same torch by a dry run
#                         (check.sh with KEEP_MMCV_WHEEL=.gpu_wheels/prebuilt),
#                         used there only if the source build fails
#
# Every package is pinned (one version of each: two would stop the install);
# the versions are the set that works in the project's .venv. What each one
# needs was read from its METADATA (Requires-Dist) and checked by importing
# (tools/gpu/check.sh's install stage).
#
#   bash tools/gpu/fetch_wheels.sh            # into .gpu_wheels
#   WHEELS=/tmp/w PY_VERSION=3.11 bash tools/gpu/fetch_wheels.sh
set -euo pipefail
export PIP_ROOT_USER_ACTION=ignore

cd "$(dirname "$0")/../.."
WHEELS=${WHEELS:-.gpu_wheels}
PY_VERSION=${PY_VERSION:-3.12}          # the GPU machine's Python
PYTHON=${PYTHON:-python3}               # any Python with pip, runs pip here
ABI=cp${PY_VERSION/./}

# The OpenMMLab stack and what it imports that the GPU machine lacks (see
# /work/.library/device/KINDS.md, "Python packages already there"):
#   mmengine: addict, termcolor, yapf (-> platformdirs)
#   mmsegmentation: prettytable (-> wcwidth); ftfy (-> wcwidth) is imported by
#     mmseg's tokenizer but not declared
#   mmpretrain: mat4py, modelindex (a shim: -> model-index -> ordered-set),
#     importlib-metadata (-> lazy-importer)
#   zennit: the tests' reference LRP implementation
# Already there: numpy, opencv-python-headless (mmengine/mmcv ask for
# opencv-python, which --no-deps skips), matplotlib, scipy, pyyaml, rich,
# regex, packaging, pillow, einops, click, markdown, zipp, scikit-learn.
PACKAGES=(
  mmengine==0.10.7
  mmsegmentation==1.2.2
  mmpretrain==1.2.0
  zennit==0.5.1
  addict==2.4.0
  termcolor==3.3.0
  yapf==0.43.0
  platformdirs==4.14.9
  prettytable==3.18.0
  wcwidth==0.9.4
  ftfy==6.3.1
  mat4py==0.6.0
  modelindex==0.0.2
  model-index==0.1.11
  ordered-set==4.1.0
  importlib-metadata==10.2.0
  lazy-importer==0.1.0
)

# The device README's recipe: wheels for the GPU machine's interpreter and
# platform, whatever this machine runs. --no-deps: every need is named above.
download_wheels() {
  local dest=$1
  shift
  "$PYTHON" -m pip download -q --no-deps --only-binary=:all: \
    --python-version "$PY_VERSION" --implementation cp --abi "$ABI" \
    --abi abi3 --abi none \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    --platform manylinux1_x86_64 --platform any \
    -d "$dest" "$@"
}

mkdir -p "$WHEELS/build" "$WHEELS/src"
echo "[fetch_wheels] runtime wheels -> $WHEELS"
download_wheels "$WHEELS" "${PACKAGES[@]}"
echo "[fetch_wheels] setuptools<80 (mmcv build only) -> $WHEELS/build"
download_wheels "$WHEELS/build" 'setuptools<80'

# mmcv 2.1.0 exists only as a source package for Python 3.12. `pip download`
# runs its setup.py for metadata, and that imports pkg_resources, which the
# newest setuptools (pip's isolated build env) no longer has: give it the
# setuptools<80 just downloaded, without build isolation.
if ! ls "$WHEELS"/src/mmcv-2.1.0.tar.gz >/dev/null 2>&1; then
  echo "[fetch_wheels] mmcv 2.1.0 source -> $WHEELS/src"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  "$PYTHON" -m pip install -q --no-index --no-deps --target "$tmp/st" \
    "$WHEELS"/build/setuptools-*.whl
  PYTHONPATH="$tmp/st" "$PYTHON" -m pip download -q --no-deps \
    --no-binary :all: --no-build-isolation -d "$WHEELS/src" mmcv==2.1.0
fi

# One version of each package: pip download keeps older files around when a
# pin changes, and two versions in one --no-deps install stop it.
dups=$(find "$WHEELS" -maxdepth 1 -name '*.whl' -printf '%f\n' | cut -d- -f1 \
  | tr 'A-Z_.' 'a-z--' | sort | uniq -d)
if [ -n "$dups" ]; then
  echo "[fetch_wheels] more than one version of: $dups (delete the old ones)"
  exit 1
fi

echo "[fetch_wheels] contents:"
(cd "$WHEELS" && find . -type f -printf '%P\t%s\n' | sort)
size=$(du -sm "$WHEELS" | cut -f1)
echo "[fetch_wheels] total: $(du -sh "$WHEELS" | cut -f1) in $WHEELS" \
  "(the working tree that travels, this folder included, must stay" \
  "under 64 MiB)"
if [ "$size" -ge 48 ]; then
  echo "[fetch_wheels] WARNING: $WHEELS is ${size} MiB"
fi
