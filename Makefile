# Two commands for a fresh clone, with nothing but python3 and make: `make preview` and `make test`.
# Each installs what it needs, without sudo and without touching any Python install: uv (used from
# PATH when recent enough, else the pinned release unpacked into .tools/bin from its PyPI wheel), the
# locked environment in .venv (all dependency groups), and for the tests the external checkers.
# `make` alone lists the targets.

.DEFAULT_GOAL := help
.PHONY: help uv env checkers preview plan-json test schema pack-requirements lint clean-tools

# The uv release bootstrapped when none (or an older one) is on PATH; the workflows pin the same.
UV_VERSION := 0.13.9
TOOLS := $(CURDIR)/.tools
export PATH := $(TOOLS)/bin:$(PATH)
STACK ?= dev
PYTEST_ARGS ?=

## List the targets (the default).
help:
	@awk 'BEGIN { print "Targets (make TARGET [STACK=dev] [PYTEST_ARGS=...]):" } \
	     /^## / { doc = substr($$0, 4); next } \
	     /^[a-z][a-z-]*:/ && doc != "" { sub(/:.*/, "", $$1); printf "  %-18s %s\n", $$1, doc; doc = "" } \
	     { doc = "" }' $(MAKEFILE_LIST)

## Make sure uv is available: from PATH if recent enough, else the pinned release into .tools/bin.
uv:
	@python3 tools/bootstrap_uv.py $(UV_VERSION) $(TOOLS)/bin

## Install the locked environment (.venv, every dependency group); minutes on a first run.
env: uv
	@test -d .venv/lib || echo "make: first run: installing the locked environment into .venv (about 1.5 GB of cloud SDKs)"
	@uv sync --locked --all-groups
	@test -f .venv/.bytecode-compiled || echo "make: compiling it to bytecode, once (a few minutes), so that every run starts fast"
	@uv sync --locked --all-groups --compile-bytecode --quiet && touch .venv/.bytecode-compiled

## Install the checkers the image tests need that are no Python dependency (checkov, a uv tool).
checkers: env
	@bash inference_image/install-checkers.sh

## Offline preview of a stack (default dev): what would be created, and the policy pack's verdict.
preview: env
	@uv run --no-sync python -m offline preview $(STACK)

## Write the plan JSON of a stack to plan-STACK.json, for scripts and `python -m offline check`.
plan-json: env
	@uv run --no-sync python -m offline preview $(STACK) --json plan-$(STACK).json

## Every test: config, planning, components, offline preview, policies, image, workflows, lint.
test: env checkers
	@uv run --no-sync pytest $(PYTEST_ARGS) || { status=$$?; \
	  if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests, which is a failure" >&2; fi; exit $$status; }

## Regenerate the stack-file JSON Schema (schemas/stack.schema.json) from the settings model.
schema: env
	@uv run --no-sync python -m offline schema --out schemas/stack.schema.json

## Regenerate policies/requirements.txt from uv.lock (exact versions and hashes).
pack-requirements: env
	@uv run --no-sync python tools/pack_requirements.py > policies/requirements.txt

## Lint with ruff.
lint: env
	@uv run --no-sync ruff check .

## Remove the bootstrapped uv (.tools); the environment (.venv) stays.
clean-tools:
	@rm -rf $(TOOLS)
