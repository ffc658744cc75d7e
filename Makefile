# The README's two commands are `make demo` and `make test`; everything they need
# (virtual environment, Python packages, the Kafka jars) is installed on the way.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test system-packages validation lint typecheck unit integration kafka-start kafka-stop clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "vasowatch needs Python 3.11 or newer"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/vasowatch demo

# Debian packages the tests drive for real: promtool and the Prometheus server, and
# Chromium for the board's browser test (Playwright's own browser download cannot work).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
system-packages:
	@command -v promtool >/dev/null && command -v prometheus >/dev/null \
		&& command -v chromium >/dev/null || { \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends \
			prometheus chromium >/dev/null; }

test: $(STAMP) system-packages lint typecheck
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# Regenerates docs/validation/ (reports on the shared eICU and MIMIC-III extracts).
DATA ?= $(firstword $(wildcard ../shared/data /work/shared/data))
validation: $(STAMP)
	mkdir -p .cache/validation
	$(BIN)/vasowatch import eicu $(DATA)/eicu-demo -o .cache/validation/eicu.jsonl
	$(BIN)/vasowatch import eicu $(DATA)/eicu-demo --cuff-as-map -o .cache/validation/eicu-cuff.jsonl
	$(BIN)/vasowatch import mimic3 $(DATA)/mimic-iii-demo -o .cache/validation/mimic3.jsonl
	for name in eicu eicu-cuff mimic3; do \
		$(BIN)/vasowatch report .cache/validation/$$name.jsonl \
			--json docs/validation/$$name.json --chart docs/validation/$$name.png; \
	done

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit

kafka-start: $(STAMP)
	$(BIN)/vasowatch kafka start

kafka-stop: $(STAMP)
	$(BIN)/vasowatch kafka stop

clean:
	-$(BIN)/vasowatch kafka stop
	rm -rf $(VENV) .cache test-output
