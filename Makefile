# The README's two commands: `make up` and `make test`. Both install what is missing first:
# a virtualenv at .venv, the Python packages, and the Cassandra and ZooKeeper jars (pinned,
# from Maven Central) into a cache outside git.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
CM_CACHE ?= $(HOME)/.cache/cassandra-mesos
CASSANDRA_VERSION := 5.0.8
ZOOKEEPER_VERSION := 3.9.5
CASSANDRA_LIB := $(CM_CACHE)/cassandra-$(CASSANDRA_VERSION)/lib
ZOOKEEPER_LIB := $(CM_CACHE)/zookeeper-$(ZOOKEEPER_VERSION)/lib
PYTEST_ARGS ?=

export CM_CACHE CASSANDRA_LIB ZOOKEEPER_LIB

.PHONY: up test deps venv jars lint clean-venv

up: deps
	$(VENV)/bin/cassandra-mesos up

test: deps
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

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

clean-venv:
	rm -rf $(VENV)
