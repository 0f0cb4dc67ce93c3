# mmseg_lrp — set-up, demo and tests.
#   make demo   set up if needed, then stage 1 + unrolled LRP on the embedded toy VOC
#   make test   set up if needed, then run the whole test suite
# Everything installs into a project-local virtual environment ($(VENV)).
# To use your own environment (e.g. with a CUDA torch), see docs/development.md, "Manual install".

VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.mmseg_lrp-installed
TOY_ROOT ?= data/toy_voc/VOC2012
DEMO_WORK_DIR ?= work_dirs/demo
PYTEST_ARGS ?=

.PHONY: install demo test toy-data toy-experiment toy-tune toy-suite toy-suite-quick clean-demo

$(STAMP): setup.py requirements/*.txt tools/setup_env.py
	$(PYTHON) tools/setup_env.py --venv $(VENV)
	touch $(STAMP)

install: $(STAMP)

toy-data: $(STAMP)
	$(PY) tools/dataset_converters/make_toy_voc.py $(TOY_ROOT) --if-missing
	$(PY) tools/dataset_converters/voc_image_labels.py $(TOY_ROOT)
	$(PY) tools/dataset_converters/make_voc_splits.py $(TOY_ROOT) --num 10 30

# stage-1 classifier, then unrolled LRP with 30 masks (about 8 min on 2 cores)
demo: toy-data
	$(PY) tools/demo.py --work-dir $(DEMO_WORK_DIR) --data-root $(TOY_ROOT)

# the toy side-by-side experiment on the default world (about 62 min on 2 cores for 3
# seeds); prints the tables, writes the plots
toy-experiment: toy-data
	$(PY) tools/analysis_tools/toy_experiment.py --data-root $(TOY_ROOT) \
		--plot docs/figures/toy_experiment.png

# the suite of toy worlds (digits, photos, photos-clutter): unrolled LRP, the
# paper's LRP-0 row, the no-guidance and CAM references and the tuned
# baselines, reported on each world's test split (docs/guidance.md). RECIPE:
# every model's learning rate x schedule, chosen on digits val by
# `make toy-tune` (the committed one is used by default). The quick form:
# 2 seeds, one stage-1 classifier per world, the fewest pixel labels only,
# LRP against the two references and the best tuned baseline on digits val
# (UNet); the full suite (about 95 min) adds a seed, a second stage-1
# classifier per world, the paper's LRP-0 row and DeepLabV3.
SUITE_WORLDS ?= digits photos photos-clutter
SUITE_MODELS ?= unrolled-lrp unrolled-lrp0 unrolled-lrp-frozen cam-frozen unet deeplabv3
QUICK_MODELS ?= unrolled-lrp unrolled-lrp-frozen cam-frozen unet
TUNE_MODELS ?= unrolled-lrp unrolled-lrp-frozen cam-frozen unet deeplabv3
RECIPE ?= configs/toy_experiment/recipe.json
toy-tune: $(STAMP)
	$(PY) tools/analysis_tools/toy_experiment.py --tune --recipe $(RECIPE) \
		--worlds digits --budgets 10 --seeds 0 1 --models $(TUNE_MODELS) \
		--work-dir work_dirs/toy_tune

toy-suite: $(STAMP)
	$(PY) tools/analysis_tools/toy_experiment.py --worlds $(SUITE_WORLDS) \
		--models $(SUITE_MODELS) --budgets 10 --seeds 0 1 2 \
		--stage1-seeds 0 1 --recipe $(RECIPE) --work-dir work_dirs/toy_suite \
		--readme configs/toy_experiment/README.md

toy-suite-quick: $(STAMP)
	$(PY) tools/analysis_tools/toy_experiment.py --worlds $(SUITE_WORLDS) \
		--models $(QUICK_MODELS) --budgets 10 --seeds 0 1 --stage1-seeds 0 \
		--recipe $(RECIPE) --work-dir work_dirs/toy_suite_quick \
		--readme configs/toy_experiment/README.md

test: $(STAMP)
	$(PY) -m pytest tests $(PYTEST_ARGS)

clean-demo:
	rm -rf $(DEMO_WORK_DIR)
