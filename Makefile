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

.PHONY: book test pytest browser a11y lint bench clean help
.DEFAULT_GOAL := help

help:
	@echo "make book   build the book into _build/html (sets up .venv first)"
	@echo "make test   run every check: unit tests, chapters under nbval, strict build, browser"
	@echo "make a11y   the accessibility check alone (axe-core, WCAG 2.1 AA, light and dark)"
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
	$(ONE_BLAS_THREAD) $(BIN)/python -m pytest -n $(JOBS) --dist loadfile -m "not browser" -v

# axe-core, the accessibility engine the browser test injects into every page,
# from the npm registry into a git-ignored folder (never vendored). Pinned, so
# that a new axe release with new rules cannot change a passing build.
AXE_VERSION := 4.14.1
AXE_DIR     := .axe
AXE_STAMP   := $(AXE_DIR)/.axe-core-$(AXE_VERSION)-installed

$(AXE_STAMP):
	@command -v npm >/dev/null 2>&1 || { \
	  echo "error: npm is needed to install axe-core for the accessibility check;" >&2; \
	  echo "       on Debian/Ubuntu: sudo apt-get install nodejs npm" >&2; exit 1; }
	rm -rf $(AXE_DIR) && mkdir -p $(AXE_DIR)
	npm install --prefix $(AXE_DIR) --no-save --no-audit --no-fund --loglevel=error axe-core@$(AXE_VERSION)
	@touch $@

browser: $(STAMP) $(AXE_STAMP)
	$(BIN)/python -m pytest -m browser -v tests/test_browser.py

a11y: $(STAMP) $(AXE_STAMP)
	$(BIN)/python -m pytest -m browser -v tests/test_browser.py -k "accessib"

test: lint pytest book browser

lint: $(STAMP)
	$(BIN)/ruff check gmmlib tests benchmarks conftest.py
	$(BIN)/ruff format --check gmmlib tests benchmarks conftest.py

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_em.py

clean:
	rm -rf _build
