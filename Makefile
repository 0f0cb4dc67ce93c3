# mmseg_lrp — set-up, demo and tests.
#   make demo   set up if needed, then train + evaluate on the embedded toy VOC
#   make test   set up if needed, then run the whole test suite
# Everything installs into a project-local virtual environment ($(VENV)).
# To use your own environment (e.g. with a CUDA torch), see README "Manual install".

VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.mmseg_lrp-installed
TOY_ROOT ?= data/toy_voc/VOC2012
DEMO_CONFIG ?= configs/unrolled_lrp/unrolled-lrp_vgg16_1xb8-200iter_toyvoc-semi-64x64.py
DEMO_WORK_DIR ?= work_dirs/demo
PYTEST_ARGS ?=

.PHONY: install demo test toy-data toy-experiment clean-demo

$(STAMP): setup.py requirements/*.txt tools/setup_env.py
	$(PYTHON) tools/setup_env.py --venv $(VENV)
	touch $(STAMP)

install: $(STAMP)

toy-data: $(STAMP)
	$(PY) tools/dataset_converters/make_toy_voc.py $(TOY_ROOT) --if-missing
	$(PY) tools/dataset_converters/voc_image_labels.py $(TOY_ROOT)
	$(PY) tools/dataset_converters/make_voc_splits.py $(TOY_ROOT) --num 10 30

demo: toy-data
	$(PY) tools/demo.py $(DEMO_CONFIG) --work-dir $(DEMO_WORK_DIR)

# the toy side-by-side experiment (about 25 min on 2 cores); writes README's table
toy-experiment: $(STAMP)
	$(PY) tools/analysis_tools/toy_experiment.py --plot docs/figures/toy_experiment.png --readme README.md

test: $(STAMP)
	$(PY) -m pytest tests $(PYTEST_ARGS)

clean-demo:
	rm -rf $(DEMO_WORK_DIR)
