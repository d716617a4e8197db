# Three commands for a fresh machine with Python 3.10+ and make:
#   make book   set up .venv, build the book strictly, print where it is
#   make test   set up .venv, run every check (pytest + nbval, gmmlib against R's
#               mclust, planted errors, both editions built strictly, the book and
#               JupyterLab in a browser)
#   make lab    set up .venv, open JupyterLab on the chapters (as notebooks)
#   make pdf    the printable book: _build/pdf/gmm-em-book.pdf (EDITION=student too)
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3.10 python3; do \
            command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null \
            && { command -v $$p; break; }; done)
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.requirements-installed
TEST_STAMP := $(VENV)/.test-requirements-installed
BOOK    := _build/html/index.html
# The edition: `make book EDITION=student` leaves out the exercises' solutions
# (sphinx-exercise's hide_solutions) and builds into _build/student/_build/html.
EDITION ?= full
STUDENT := _build/student
# binder/postBuild writes it: .md chapters open as notebooks in .venv's JupyterLab.
LAB_OVERRIDE := $(VENV)/share/jupyter/lab/settings/overrides.d/gmm-em-book.json
JOBS    ?= auto
# The chapters and tests work on small arrays; BLAS threads only oversubscribe
# the cores that pytest-xdist and the kernels already use (and OpenBLAS's idle
# threads spin). One BLAS thread per process; benchmarks set their own.
ONE_BLAS_THREAD := OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

.PHONY: book full-book student-book student-config student-tree pdf full-pdf student-pdf pdfs test test-setup pytest mclust planted browser a11y lab lint bench clean help setup
.DEFAULT_GOAL := help

help:
	@echo "make book   build the book into _build/html (sets up .venv first)"
	@echo "            make book EDITION=student: without solutions, into $(STUDENT)/_build/html"
	@echo "make student-tree  the repository without solutions, into $(STUDENT_TREE) (the branch student)"
	@echo "make pdf    the whole book as one PDF, into $(PDF) (and the web book's folder)"
	@echo "            make pdf EDITION=student: without solutions, into $(STUDENT_PDF)"
	@echo "make lab    JupyterLab on the chapters, opened as notebooks (sets up .venv first)"
	@echo "make test   run every check: unit tests, chapters under nbval, mclust, planted errors, both editions, browser"
	@echo "make setup  create .venv, install requirements.txt, compile gmmlib's kernels (the others do it first)"
	@echo "make test-setup  setup, and the checks' tools of requirements-test.txt (make test and make pdf do it first)"
	@echo "make pytest   the unit tests and every chapter under nbval (a part of make test)"
	@echo "make mclust   gmmlib against R's mclust 6 from the same start (needs Rscript and r-cran-mclust; a part of make test)"
	@echo "make browser  the built editions in headless Chromium, and the chapters in JupyterLab (a part of make test)"
	@echo "make planted  plant each catalogued error (in gmmlib, or in a cell's claim); the cells it names must fail"
	@echo "make a11y   the accessibility check alone (axe-core, WCAG 2.1 AA, light and dark)"
	@echo "make lint   ruff over gmmlib, tests, benchmarks"
	@echo "make bench  side-by-side benchmark of gmmlib and scikit-learn"
	@echo "make clean  remove _build (keeps .venv)"

$(BIN)/python:
	@if [ -z "$(PYTHON)" ]; then \
	  echo "error: no Python 3.10 or newer found on PATH (tried python3.13 ... python3)." >&2; \
	  echo "       Install Python 3.10+ (with its venv module), or run: make PYTHON=/path/to/python3.x" >&2; \
	  exit 1; fi
	@command -v "$(PYTHON)" >/dev/null 2>&1 || { \
	  echo "error: PYTHON=$(PYTHON) is not an interpreter on this machine (no such file or command);" >&2; \
	  echo "       run: make PYTHON=/path/to/python3.10+ (or leave PYTHON unset to find one)" >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || { \
	  echo "error: $(PYTHON) is older than Python 3.10; run: make PYTHON=/path/to/python3.10+" >&2; exit 1; }
	@echo "Creating $(VENV) with $(PYTHON)"
	@$(PYTHON) -m venv $(VENV) || { \
	  echo "error: '$(PYTHON) -m venv' failed; on Debian/Ubuntu install the python3-venv package." >&2; exit 1; }

# Reinstall only when the requirements or the package metadata change.
# gmmlib/__init__.py holds the version: a new one reinstalls, so the editable
# install's metadata says it too (tests/test_version.py).
# pip's output (and setuptools' notes on the editable install of gmmlib) goes
# to $(SETUP_LOG); a failure prints its end.
SETUP_LOG := $(VENV)/setup.log
PIP_LOGGED = >>$(SETUP_LOG) 2>&1 || { tail -n 40 $(SETUP_LOG) >&2; \
  echo "error: pip failed (above: the end of its log, all of it in $(SETUP_LOG))" >&2; exit 1; }
$(STAMP): requirements.txt pyproject.toml gmmlib/__init__.py | $(BIN)/python
	@echo "Installing requirements.txt into $(VENV) (pip's log: $(SETUP_LOG))"
	@$(BIN)/python -m pip install --upgrade pip $(PIP_LOGGED)
	@$(BIN)/python -m pip install -r requirements.txt $(PIP_LOGGED)
	@touch $@

# The same script Binder runs after its install (binder/postBuild).
# (the kernels: $(KERNELS) below, once; on Binder postBuild compiles them)
$(LAB_OVERRIDE): binder/postBuild $(STAMP)
	@GMMBOOK_NO_WARM_UP=1 $(BIN)/python binder/postBuild

# numba compiles the E-step's kernels (gmmlib/_kernels.py) on first use and
# caches them in gmmlib/__pycache__: compile them once here, not in a chapter.
KERNELS := $(VENV)/.kernels-compiled
$(KERNELS): gmmlib/_kernels.py $(STAMP)
	@$(BIN)/python -c 'from gmmlib._kernels import warm_up; print(f"gmmlib kernels ready in {warm_up():.1f} s")'
	@touch $@

setup: $(STAMP) $(LAB_OVERRIDE) $(KERNELS)

# The checks' own tools (pytest, nbval, selenium, ...): only what runs checks
# or prints the PDF needs them, not a reader's `make book` or `make lab`.
$(TEST_STAMP): requirements-test.txt $(STAMP)
	@echo "Installing the checks' tools, requirements-test.txt (pip's log: $(SETUP_LOG))"
	@$(BIN)/python -m pip install -r requirements-test.txt $(PIP_LOGGED)
	@touch $@

test-setup: setup $(TEST_STAMP)

# `make book` builds $(EDITION)-book: full-book (default) or student-book.
ifeq ($(filter $(EDITION),full student),)
book:
	@echo "error: EDITION is 'full' (the default) or 'student', not '$(EDITION)'" >&2; exit 2
else
book: $(EDITION)-book
endif

# Jupyter Book's output goes whole to _build/logs/*.log; .ci/build_log.py prints
# one line per chapter executed, the warnings and errors, and, if the build
# fails, the failure again with the log's path.
LOGS := _build/logs
BUILD_LOGGED = $(BIN)/python .ci/build_log.py

full-book: setup
	@echo "Building the book: every chapter executed, warnings are errors"
	@$(ONE_BLAS_THREAD) $(BUILD_LOGGED) $(LOGS)/book.log -- \
	  $(BIN)/jupyter-book build . -W -n --keep-going
	@echo
	@echo "The book is at $(CURDIR)/$(BOOK)"

# The student edition: _config.yml with sphinx-exercise's hide_solutions on,
# its Binder and repository buttons on the branch `student` (make student-tree),
# written next to its build (the one source of settings stays _config.yml).
student-config: setup
	@mkdir -p $(STUDENT)
	$(BIN)/python chapters/_edition.py config _config.yml $(STUDENT)/_config.yml

# The branch `student` that the student edition's buttons lead to: every file
# git tracks, the exercises' solutions removed (chapters/_edition.py), written
# into $(STUDENT_TREE). The Pages workflow pushes it (.ci/push-student-branch).
STUDENT_TREE ?= _build/student-tree
student-tree: | $(BIN)/python
	$(BIN)/python chapters/_edition.py tree $(STUDENT_TREE)

student-book: student-config
	@echo "Building the student edition: every chapter executed, warnings are errors"
	@$(ONE_BLAS_THREAD) $(BUILD_LOGGED) $(LOGS)/student-book.log -- \
	  $(BIN)/jupyter-book build . -W -n --keep-going \
	  --config $(STUDENT)/_config.yml --path-output $(STUDENT)
	@echo
	@echo "The student edition (no solutions) is at $(CURDIR)/$(STUDENT)/_build/html/index.html"

# The printable book. Sphinx's singlehtml builder puts every chapter, in the
# order of _toc.yml, into one page (same sources, _config.yml and extensions
# as the web book); tests/_pdf.py prints that page with the headless Chromium
# of the browser tests, after MathJax typeset it (print CSS: _static/print.css).
# The singlehtml build shares _build/.doctrees with the web build, so after
# `make book` it executes nothing again: Sphinx re-reads only what changed.
# The PDF is also copied into the web book's folder (index.md links it).
PDF         := _build/pdf/gmm-em-book.pdf
STUDENT_PDF := $(STUDENT)/_build/pdf/gmm-em-book-student.pdf
WEB_PDF     := gmm-em-book.pdf

ifeq ($(filter $(EDITION),full student),)
pdf:
	@echo "error: EDITION is 'full' (the default) or 'student', not '$(EDITION)'" >&2; exit 2
else
pdf: $(EDITION)-pdf
endif

pdfs: full-pdf student-pdf

full-pdf: test-setup
	@echo "Building the single-page book to print"
	@$(ONE_BLAS_THREAD) $(BUILD_LOGGED) $(LOGS)/pdf.log -- \
	  $(BIN)/jupyter-book build . -W -n --keep-going --builder singlehtml
	$(BIN)/python tests/_pdf.py _build/singlehtml $(PDF)
	@if [ -d _build/html ]; then cp $(PDF) _build/html/$(WEB_PDF); fi
	@echo
	@echo "The printable book is at $(CURDIR)/$(PDF)"

student-pdf: student-config $(TEST_STAMP)
	@echo "Building the student edition's single page to print"
	@$(ONE_BLAS_THREAD) $(BUILD_LOGGED) $(LOGS)/student-pdf.log -- \
	  $(BIN)/jupyter-book build . -W -n --keep-going --builder singlehtml \
	  --config $(STUDENT)/_config.yml --path-output $(STUDENT)
	$(BIN)/python tests/_pdf.py $(STUDENT)/_build/singlehtml $(STUDENT_PDF) \
	  --edition-note "Student edition: the exercises without their solutions"
	@if [ -d $(STUDENT)/_build/html ]; then cp $(STUDENT_PDF) $(STUDENT)/_build/html/$(WEB_PDF); fi
	@echo
	@echo "The printable student edition is at $(CURDIR)/$(STUDENT_PDF)"

# JupyterLab on the book, landing on the first chapter: the URL it opens and
# prints is chapters/01_model.md's. As root (in a container) JupyterLab refuses
# to start without --allow-root.
lab: setup
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root) \
	  --LabApp.default_url=/lab/tree/chapters/01_model.md

# CITATION.cff is validated against the Citation File Format's JSON schema as
# cffconvert's wheel ships it. The wheel is downloaded (hash-pinned, no
# dependencies) into git-ignored .cff/, not installed: its jsonschema<4 would
# downgrade JupyterLab's. .ci/cff.txt says more; tests/test_citation.py reads it.
.PHONY: cff wheel-test
CFF_WHEEL := .cff/cffconvert-$(shell sed -n 's/^cffconvert==\([^ ]*\).*/\1/p' .ci/cff.txt)-py3-none-any.whl
$(CFF_WHEEL): .ci/cff.txt | $(STAMP)
	$(BIN)/python -m pip download --quiet --no-deps --only-binary=:all: --require-hashes \
	  --dest .cff -r .ci/cff.txt
	@touch $@
cff: $(CFF_WHEEL)

pytest: test-setup $(CFF_WHEEL)
	$(ONE_BLAS_THREAD) $(BIN)/python -m pytest -n $(JOBS) --dist loadfile -m "not browser and not book and not planted and not mclust" -v

# gmmlib against R's mclust (issue 20): tests/_mclust.py runs Rscript, which
# needs r-base-core and r-cran-mclust (Debian/Ubuntu; .ci/run installs them).
# Without them the tests fail with that install command; make pytest leaves
# them out, so it runs without R.
mclust: test-setup
	$(ONE_BLAS_THREAD) $(BIN)/python -m pytest -m mclust -v tests/test_mclust.py

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

# What needs the built editions: the book's pages in Chromium (with axe-core),
# every chapter run in JupyterLab, the student edition free of solutions.
browser: test-setup $(AXE_STAMP)
	$(BIN)/python -m pytest -m "browser or book" -v \
	  tests/test_browser.py tests/test_lab.py tests/test_editions.py tests/test_citation.py \
	  tests/test_pdf.py

a11y: test-setup $(AXE_STAMP)
	$(BIN)/python -m pytest -m browser -v tests/test_browser.py -k "accessib"

# Each error of tests/planted_catalogue/ is planted (in a copy of gmmlib, or in
# the claim a chapter cell states) and its chapter run: the cells it names must
# fail, and every check cell must be named; prints the coverage and refreshes
# chapters/planted_errors.json.
planted: test-setup
	$(ONE_BLAS_THREAD) $(BIN)/python -m pytest -m planted -v -s tests/test_planted_errors.py

test: lint pytest mclust wheel-test planted full-book student-book pdfs browser

# gmmlib as a user installs it: build the sdist and the wheel, twine check them,
# list them, install the wheel into a clean venv and run the unit tests there
# (.ci/wheel-test). build and twine come from .ci/release.txt, not requirements.txt.
RELEASE_TOOLS := $(VENV)/.release-tools-installed
$(RELEASE_TOOLS): .ci/release.txt $(STAMP)
	$(BIN)/python -m pip install --quiet -r .ci/release.txt
	@touch $@
wheel-test: $(RELEASE_TOOLS)
	PYTHON=$(BIN)/python JOBS=$(JOBS) .ci/wheel-test

lint: $(TEST_STAMP)
	$(BIN)/ruff check gmmlib tests benchmarks conftest.py
	$(BIN)/ruff format --check gmmlib tests benchmarks conftest.py

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_em.py

clean:
	rm -rf _build
