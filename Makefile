# LandFuse: the documented entry points. `make demo` and `make test` set everything up themselves.
SHELL := /bin/bash
ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
VENV := $(ROOT)/.venv
PY := $(VENV)/bin/python
# GPU=1 selects the CUDA variant of the backend environment; by default it is chosen when nvidia-smi sees a GPU.
GPU ?= $(shell nvidia-smi -L >/dev/null 2>&1 && echo 1 || echo 0)
VARIANT := $(if $(filter 1,$(GPU)),gpu,cpu)
QGIS_ENV := QT_QPA_PLATFORM=offscreen PYTHONDONTWRITEBYTECODE=1
PROFILE ?= default
QGIS_PLUGINS := $(HOME)/.local/share/QGIS/QGIS3/profiles/$(PROFILE)/python/plugins
PYTEST_ARGS ?=
BENCH ?=

.PHONY: setup test demo bench screenshot lint format package install clean

setup:
	@bash $(ROOT)/scripts/setup.sh $(VARIANT)

test: setup
	cd $(ROOT) && $(QGIS_ENV) $(PY) -m pytest $(PYTEST_ARGS)

demo: setup
	cd $(ROOT) && $(QGIS_ENV) $(PY) scripts/demo.py

bench: setup
	cd $(ROOT) && $(PY) -m landfuse.bench $(BENCH)

# A screenshot of the real QGIS window (under Xvfb) with the dock after a run: docs/screenshot.png.
screenshot: setup
	cd $(ROOT) && $(PY) scripts/screenshot.py

lint: setup
	cd $(ROOT) && $(PY) -m ruff check . && $(PY) -m ruff format --check .

format: setup
	cd $(ROOT) && $(PY) -m ruff format . && $(PY) -m ruff check --fix .

package:
	@bash $(ROOT)/scripts/package.sh

install:
	@mkdir -p "$(QGIS_PLUGINS)"
	@ln -sfn "$(ROOT)" "$(QGIS_PLUGINS)/landfuse"
	@echo "LandFuse linked into $(QGIS_PLUGINS)/landfuse: restart QGIS and enable it in Plugins > Manage and Install Plugins."

clean:
	rm -rf $(ROOT)/dist $(ROOT)/.pytest_cache $(ROOT)/.ruff_cache
