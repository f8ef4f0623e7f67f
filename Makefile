# Two commands for a fresh clone: `make preview` and `make test`. Each installs what it needs:
# uv (via pip when missing), the locked Python environment, and the external checkers.

UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
STACK ?= dev
PYTEST_ARGS ?=

.PHONY: preview test env checkers plan-json

env:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	@$(UV) sync --locked --quiet --compile-bytecode

checkers:
	@bash inference_image/install-checkers.sh

## Offline preview of a stack (default dev): what would be created, and the policy pack's verdict.
preview: env
	@$(UV) run python -m offline preview $(STACK)

## The plan JSON of a stack, for scripts and for `python -m offline check`.
plan-json: env
	@$(UV) run python -m offline preview $(STACK) --json plan-$(STACK).json

## Every test: config, planning, components, offline preview, policies, image, workflows.
test: env checkers
	@$(UV) run pytest $(PYTEST_ARGS)
