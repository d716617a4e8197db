# Two commands for a fresh machine with Python 3.10+ and make:
#   make book   set up .venv, build the book strictly, print where it is
#   make test   set up .venv, run every check (pytest + nbval, strict build, browser)
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3.10 python3; do \
            command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null \
            && { command -v $$p; break; }; done)
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.requirements-installed
BOOK    := _build/html/index.html
JOBS    ?= auto
# The chapters and tests work on small arrays; BLAS threads only oversubscribe
# the cores that pytest-xdist and the kernels already use (and OpenBLAS's idle
# threads spin). One BLAS thread per process; benchmarks set their own.
ONE_BLAS_THREAD := OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

.PHONY: book test pytest planted browser lint bench clean help
.DEFAULT_GOAL := help

help:
	@echo "make book   build the book into _build/html (sets up .venv first)"
	@echo "make test   run every check: unit tests, chapters under nbval, planted errors, strict build, browser"
	@echo "make planted  plant each catalogued error in a copy of gmmlib; a chapter cell must fail"
	@echo "make lint   ruff over gmmlib, tests, benchmarks"
	@echo "make bench  side-by-side benchmark of gmmlib and scikit-learn"
	@echo "make clean  remove _build (keeps .venv)"

$(BIN)/python:
	@if [ -z "$(PYTHON)" ]; then \
	  echo "error: no Python 3.10 or newer found on PATH (tried python3.13 ... python3)." >&2; \
	  echo "       Install Python 3.10+ (with its venv module), or run: make PYTHON=/path/to/python3.x" >&2; \
	  exit 1; fi
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || { \
	  echo "error: $(PYTHON) is older than Python 3.10; run: make PYTHON=/path/to/python3.10+" >&2; exit 1; }
	@echo "Creating $(VENV) with $(PYTHON)"
	@$(PYTHON) -m venv $(VENV) || { \
	  echo "error: '$(PYTHON) -m venv' failed; on Debian/Ubuntu install the python3-venv package." >&2; exit 1; }

# Reinstall only when the requirements or the package metadata change.
$(STAMP): requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $@

book: $(STAMP)
	$(ONE_BLAS_THREAD) $(BIN)/jupyter-book build . -W -n --keep-going
	@echo
	@echo "The book is at $(CURDIR)/$(BOOK)"

pytest: $(STAMP)
	$(ONE_BLAS_THREAD) $(BIN)/python -m pytest -n $(JOBS) --dist loadfile -m "not browser and not planted" -v

browser: $(STAMP)
	$(BIN)/python -m pytest -m browser -v tests/test_browser.py

# Each error of tests/planted_errors.py is planted in a copy of gmmlib and the
# chapters that check it must fail; refreshes chapters/planted_errors.json.
planted: $(STAMP)
	$(ONE_BLAS_THREAD) $(BIN)/python -m pytest -m planted -v -s tests/test_planted_errors.py

test: lint pytest planted book browser

lint: $(STAMP)
	$(BIN)/ruff check gmmlib tests benchmarks conftest.py
	$(BIN)/ruff format --check gmmlib tests benchmarks conftest.py

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_em.py

clean:
	rm -rf _build
