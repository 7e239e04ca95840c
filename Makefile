# jada-checks: `make demo` shows the suite on real sandbox hosts; `make test` runs the self-tests;
# `make test-fast` runs those that boot no sandbox host, plus ruff and mypy (the edit-test loop).
PYTHON ?= python3
# The real readers of --jada-report-metrics (tests/reporting/test_metrics_consumers.py starts each on
# a loopback port). Their packages enable a service on all interfaces: stopped and
# disabled right after a fresh install, the self-test runs its own.
METRICS_DAEMONS := prometheus-node-exporter prometheus-pushgateway
APT_PACKAGES := systemd-container openssh-server openssh-client iproute2 procps sudo shellcheck rsync chromium nftables \
	$(METRICS_DAEMONS)
# Runs the GitLab component's pipelines in the self-tests (its shell executor needs rsync).
# 4.73.0 is the newest release that runs on Node 20 (4.74+ need Node 22).
GITLAB_CI_LOCAL := 4.73.0
STAMP := build/.installed

.PHONY: install demo test test-fast test-releases lint docs bench clean down

$(STAMP): pyproject.toml Makefile
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "apt: installing$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	  for d in $(METRICS_DAEMONS); do case " $$missing " in *" $$d "*) \
	    systemctl disable --now $$d >/dev/null 2>&1 || true;; esac; done; \
	fi
	$(PYTHON) -m pip install -q --disable-pip-version-check -e '.[test]'
	@[ "$$(gitlab-ci-local --version 2>/dev/null)" = "$(GITLAB_CI_LOCAL)" ] || \
	  npm install -g --no-fund --no-audit --loglevel=error gitlab-ci-local@$(GITLAB_CI_LOCAL)
	@mkdir -p build && touch $(STAMP)

install: $(STAMP)

demo: install
	$(PYTHON) -m jada_checks.dev.demo

# The self-tests spend most of their time in subprocesses (suite runs, sandbox hosts, venvs,
# CI pipelines), so JOBS xdist workers share them out by work unit (tests/conftest.py: every
# test that boots sandbox hosts is one, any other test is one), the longest first; JOBS=0
# runs everything in this process. tests/conftest.py marks every test that uses the `sandbox`
# fixture with `sandbox`: test-fast runs the others.
JOBS ?= 2
# Every suite run a self-test starts imports the project's modules again. Where
# PYTHONDONTWRITEBYTECODE is set (this machine sets it) none of them is cached, and each run
# compiles them anew (about 70 ms); installed wheels are compiled at install time.
PYC = $(PYTHON) -m compileall -q checks tests conftest.py >/dev/null
XDIST = $(if $(filter 0,$(JOBS)),,-n $(JOBS) --dist loadgroup --no-loadscope-reorder)
test: install
	@$(PYC)
	env -u JADA_PROFILE $(PYTHON) -m pytest tests -p no:cacheprovider -q -ra -m "not releases" $(XDIST)
	$(PYTHON) -m ruff check checks tests conftest.py
	$(PYTHON) -m mypy

# test-fast leaves out what needs sandbox hosts or a fresh venv installed from the package
# index (marker packaging: the wheel, the Action, the GitLab pipeline; about 55 s of CPU).
test-fast: install
	@$(PYC)
	env -u JADA_PROFILE $(PYTHON) -m pytest tests -p no:cacheprovider -q -ra \
	  -m "not sandbox and not packaging and not releases" $(XDIST)
	$(PYTHON) -m ruff check checks tests conftest.py
	$(PYTHON) -m mypy

# Least privilege on Debian 11 and 13 besides this machine's 12: builds each release's tree
# once with debootstrap (cached under /var/cache/jada-sandbox), then boots hosts from it.
test-releases: install
	@dpkg -s debootstrap >/dev/null 2>&1 || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap; }
	env -u JADA_PROFILE $(PYTHON) -m pytest tests/sandbox/test_releases.py -p no:cacheprovider -q -ra \
	  -m releases

lint: install
	$(PYTHON) -m ruff check checks tests conftest.py
	$(PYTHON) -m mypy

# The README's control table, from the registry (tests/test_docs.py fails while it is stale).
docs: install
	$(PYTHON) -m jada_checks.catalogue_table README.md

bench: install
	$(PYTHON) -m pip install -q --disable-pip-version-check -e '.[test,bench]'
	$(PYTHON) -m jada_checks.dev.bench

down:
	$(PYTHON) -m jada_checks.sandbox.cli down

clean: down
	rm -rf build
