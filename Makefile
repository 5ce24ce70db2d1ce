# Quick start: `make demo` and `make test`. Both create .venv and install the package (editable, dev extras) first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo demo-digits demo-video demo-face test install data clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

# Reinstall only when the dependency list changes; an editable install picks up code changes by itself.
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Sample data (see docs/data.md): cached under data/, a no-op when already there.
data: install
	for name in digits nuclei mni labelme_coco videos lfw_subset; do $(PY) tools/data/fetch_data.py $$name || exit 1; done

# The main job: Mask R-CNN R18-FPN on the real nuclei image, ~4 CPU minutes (docs/detection.md).
demo: data
	$(PY) tools/demos/nuclei_maskrcnn.py

# The first demo: ResNet-18 classification on the UCI digits, ~2 CPU minutes (docs/training.md).
demo-digits: data
	$(PY) tools/demo.py

# Video: a tiny ResNet3d vs the TSN control on playback speed/direction of real clips, 3 seeds (docs/video.md).
demo-video: data
	$(PY) tools/demos/video_temporal.py

# Open-set face verification on the digits: ArcFace, CosFace, softmax x 3 seeds, train 0-6, verify 7-9 (docs/face.md).
demo-face: data
	$(PY) tools/demos/face_digits.py

# The suite in TEST_WORKERS processes (pytest-xdist; each test file stays in one, so its module fixtures run once).
# Tests run torch on one thread (tests/conftest.py), so two workers use CI's two cores: about half the serial time.
TEST_WORKERS ?= 2
test: data
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile

clean:
	rm -rf $(VENV) build *.egg-info
