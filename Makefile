# smtplog developer commands. `make demo` and `make test` work on a fresh machine
# with Python >= 3.10: they create .venv and install smtplog into it.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
DEMO   ?= samples/telnet/exchange-style-delivered.txt

.PHONY: venv parsers demo test lint format goldens fuzz bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

venv: $(STAMP)

parsers: $(STAMP)  ## generate the standalone parsers (smtplog/_parsers) from grammar/
	$(BIN)/python -m smtplog.standalone

demo: $(STAMP) parsers  ## analyse the bundled telnet sample of Microsoft's procedure
	$(BIN)/smtplog analyze $(DEMO) || test $$? -eq 1

test: $(STAMP) parsers  ## lint and run the whole test suite
	$(BIN)/ruff check $(wildcard smtplog tests bench scripts)
	$(BIN)/ruff format --check $(wildcard smtplog tests bench scripts)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check $(wildcard smtplog tests bench scripts)

format: $(STAMP)
	$(BIN)/ruff format smtplog tests bench scripts
	$(BIN)/ruff check --fix smtplog tests bench scripts

# `make fuzz`: hypothesis examples per property, then seconds of atheris
# (make fuzz FUZZ_EXAMPLES=20000 FUZZ_TIME=3600 for a night).
FUZZ_EXAMPLES ?= 5000
FUZZ_TIME ?= 600

fuzz: $(STAMP) parsers  ## long fuzzing: hypothesis "fuzz" profile, then atheris for FUZZ_TIME s
	HYPOTHESIS_PROFILE=fuzz FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest \
		-p no:cacheprovider tests/test_fuzz.py tests/test_parsers.py
	$(BIN)/python -c "import atheris" 2>/dev/null || $(BIN)/python -m pip install -q -e '.[fuzz]' \
		|| echo "atheris could not be installed: skipping the coverage-guided run"
	if $(BIN)/python -c "import atheris" 2>/dev/null; then \
		$(BIN)/python -m tests.fuzz_atheris -max_total_time=$(FUZZ_TIME) \
			-artifact_prefix=.fuzz/ .fuzz/corpus; fi

goldens: $(STAMP)  ## regenerate tests/golden/ (review the diff before committing)
	$(BIN)/python scripts/regen_goldens.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache smtplog/_parsers
