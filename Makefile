# The README's two commands: `make up` and `make test`. Both install what is missing first:
# a virtualenv at .venv, the Python packages, and the Cassandra and ZooKeeper jars (pinned,
# from Maven Central) into a cache outside git.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
CM_CACHE ?= $(HOME)/.cache/cassandra-mesos
CASSANDRA_VERSION := 5.0.8
# The release before: the tests upgrade a cluster from it to CASSANDRA_VERSION.
CASSANDRA_PREVIOUS_VERSION := 5.0.7
ZOOKEEPER_VERSION := 3.9.5
CASSANDRA_LIB := $(CM_CACHE)/cassandra-$(CASSANDRA_VERSION)/lib
CASSANDRA_PREVIOUS_LIB := $(CM_CACHE)/cassandra-$(CASSANDRA_PREVIOUS_VERSION)/lib
ZOOKEEPER_LIB := $(CM_CACHE)/zookeeper-$(ZOOKEEPER_VERSION)/lib
PYTEST_ARGS ?=

export CM_CACHE CASSANDRA_LIB ZOOKEEPER_LIB CASSANDRA_PREVIOUS_VERSION

.PHONY: up test deps venv jars jars-previous web-deps lint clean-venv

up: deps
	$(VENV)/bin/cassandra-mesos up

test: deps jars-previous web-deps
	$(PY) -m pytest $(PYTEST_ARGS)

deps: venv jars

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

# Always checked, cheap when the cache is current (see tools/jars/fetch.sh).
jars:
	tools/jars/fetch.sh tools/jars/cassandra/pom.xml $(CASSANDRA_LIB)
	tools/jars/fetch.sh tools/jars/zookeeper/pom.xml $(ZOOKEEPER_LIB)

# Only the tests need it (a rolling upgrade from it); `make up` does not.
jars-previous:
	tools/jars/fetch.sh tools/jars/cassandra/pom.xml $(CASSANDRA_PREVIOUS_LIB) \
	  -Dcassandra.version=$(CASSANDRA_PREVIOUS_VERSION)

# jsdom, to drive the web page in tests (tests/web); reinstalled when the lock file changes.
web-deps: tests/web/node_modules/.installed

tests/web/node_modules/.installed: tests/web/package-lock.json
	cd tests/web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

clean-venv:
	rm -rf $(VENV)
