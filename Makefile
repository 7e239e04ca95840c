# jada-checks: `make demo` shows the suite on real sandbox hosts; `make test` runs the self-tests;
# `make test-fast` runs those that boot no sandbox host, plus ruff and mypy (the edit-test loop).
#
# Everything runs from the project venv .venv (PYTHON), which PYTHON3 creates: python3 on
# PATH, Debian's /usr/bin/python3 on a stock Debian 12 (apt brings python3 and python3-venv
# when they are missing). Nothing is ever installed into the system Python (PEP 668).
PYTHON3 ?= python3
VENV := .venv
PYTHON = $(VENV)/bin/python
PIP = $(PYTHON) -m pip install -q --disable-pip-version-check -c ci/constraints.txt
# make demo: systemd-nspawn boots hosts over an overlay of / (so / needs systemd, sshd and
# the agent's /usr/bin/python3), reached with ssh over veth links; openssl makes their TLS
# certificates, procps their sysctls.
DEMO_APT := systemd-container openssh-server openssh-client iproute2 procps openssl python3
# The real readers of --jada-report-metrics (tests/reporting/test_metrics_consumers.py starts
# each on a loopback port). Their packages enable a service on all interfaces: stopped and
# disabled right after a fresh install (the apt macro), the self-test runs its own.
METRICS_DAEMONS := prometheus-node-exporter prometheus-pushgateway
# make test also boots the least-privilege hosts (sudo), lints the read helper (shellcheck),
# screenshots the HTML report (chromium), filters ports on a host (nftables) and runs the
# GitLab pipelines (rsync for gitlab-ci-local's shell executor).
TEST_APT := $(DEMO_APT) sudo shellcheck rsync chromium nftables $(METRICS_DAEMONS)
# Runs the GitLab component's pipelines in the self-tests. 4.73.0 is the newest release that
# runs on Node 20 (4.74+ need Node 22); on Node 18, Debian 12's, it stops at once ("yargs
# parser supports a minimum Node.js version of 20"). Where `node` on PATH is older than 20 or
# missing, `make install` puts Node $(NODE_VERSION) from the npm registry's node-linux-<arch>
# package (the official binary; Debian's npm fetches it) under $(VENV)/node, and
# gitlab-ci-local too unless that version is on PATH already. The recipes, and the tests
# they start, see $(VENV)/node/bin first on PATH (tests/support/ci_run.py adds it too).
GITLAB_CI_LOCAL := 4.73.0
NODE_VERSION := 20.20.2
NODE_PREFIX := $(abspath $(VENV))/node
NODE_ARCH = $(subst amd64,x64,$(shell dpkg --print-architecture))
export PATH := $(NODE_PREFIX)/bin:$(PATH)
NPM_GLOBAL = npm install -g --prefix "$(NODE_PREFIX)" --no-fund --no-audit --loglevel=error
STAMP := build/.installed
DEMO_STAMP := build/.installed-demo

# $(call apt,PACKAGES): apt-get install those of PACKAGES that are not installed.
apt = missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q ' installed$$' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "apt: installing$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends $$missing >/dev/null; \
	  for d in $(METRICS_DAEMONS); do case " $$missing " in *" $$d "*) \
	    systemctl disable --now $$d >/dev/null 2>&1 || true;; esac; done; \
	fi

.PHONY: install install-demo demo test test-fast test-releases lint docs bench clean down check-upstream

$(VENV)/bin/python:
	@command -v $(PYTHON3) >/dev/null 2>&1 || { $(call apt,python3 python3-venv); }
	@$(PYTHON3) -c 'import ensurepip, venv' 2>/dev/null || { $(call apt,python3-venv); }
	$(PYTHON3) -m venv $(VENV)

$(DEMO_STAMP): pyproject.toml ci/constraints.txt Makefile | $(VENV)/bin/python
	@$(call apt,$(DEMO_APT))
	$(PIP) -e .
	@mkdir -p build && touch $@

$(STAMP): pyproject.toml ci/constraints.txt Makefile | $(VENV)/bin/python
	@$(call apt,$(TEST_APT))
	$(PIP) -e '.[test]'
	@node -e 'process.exit(parseInt(process.versions.node) >= 20 ? 0 : 1)' 2>/dev/null || { \
	  command -v npm >/dev/null 2>&1 || { $(call apt,npm); }; \
	  echo "npm: installing node-linux-$(NODE_ARCH)@$(NODE_VERSION) under $(NODE_PREFIX)"; \
	  $(NPM_GLOBAL) node-linux-$(NODE_ARCH)@$(NODE_VERSION); }
	@[ "$$(gitlab-ci-local --version 2>/dev/null)" = "$(GITLAB_CI_LOCAL)" ] || { \
	  command -v npm >/dev/null 2>&1 || { $(call apt,npm); }; \
	  echo "npm: installing gitlab-ci-local@$(GITLAB_CI_LOCAL) under $(NODE_PREFIX)"; \
	  $(NPM_GLOBAL) gitlab-ci-local@$(GITLAB_CI_LOCAL); }
	@mkdir -p build && touch $@ $(DEMO_STAMP)

install: $(STAMP)
install-demo: $(DEMO_STAMP)

demo: install-demo
	$(PYTHON) -m jada_checks.dev.demo

# The self-tests spend most of their time in subprocesses (suite runs, sandbox hosts, venvs,
# CI pipelines), so JOBS xdist workers share them out by work unit (tests/support/work_units.py: every
# test that boots sandbox hosts is one, any other test is one), the longest first; JOBS=0
# runs everything in this process. tests/conftest.py marks every test that uses the `sandbox`
# fixture with `sandbox`: test-fast runs the others.
JOBS ?= 2
# Every suite run a self-test starts imports the project's modules again. Where
# PYTHONDONTWRITEBYTECODE is set (this machine sets it) none of them is cached, and each run
# compiles them anew (about 70 ms); installed wheels are compiled at install time.
PYC = $(PYTHON) -m compileall -q checks tests conftest.py >/dev/null
XDIST = $(if $(filter 0,$(JOBS)),,-n $(JOBS) --dist loadscope --no-loadscope-reorder)
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
# Also make demo and make install on a pristine Debian 12 (tests/sandbox/test_fresh_debian.py).
test-releases: install
	@$(call apt,debootstrap)
	env -u JADA_PROFILE $(PYTHON) -m pytest tests/sandbox/test_releases.py \
	  tests/sandbox/test_fresh_debian.py -p no:cacheprovider -q -ra -m releases

# Is what the suite knows of Claude Code still what is published? Compares the sandbox
# stand-in's layout and the recognition rules with the newest @anthropic-ai/claude-code,
# the settings schema's keys with SchemaStore's, and the known model ids with the newest
# binary's; prints every difference, exit 1 when any (2: a part could not be compared).
# Needs the npm registry, so it is not part of `make test`: run it when Claude Code releases.
check-upstream: install
	$(PYTHON) -m jada_checks.dev.check_upstream

lint: install
	$(PYTHON) -m ruff check checks tests conftest.py
	$(PYTHON) -m mypy

# The README's control table, from the registry (tests/test_docs.py fails while it is stale).
docs: install
	$(PYTHON) -m jada_checks.catalogue_table README.md

bench: install
	$(PIP) -e '.[test,bench]'
	$(PYTHON) -m jada_checks.dev.bench

# Without a venv, make never booted a sandbox.
down:
	@if [ -x $(PYTHON) ]; then $(PYTHON) -m jada_checks.sandbox.cli down; fi

clean: down
	rm -rf build
