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
MVN_COPY := mvn -q -B org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies -DincludeScope=runtime
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

jars: $(CASSANDRA_LIB)/.complete $(ZOOKEEPER_LIB)/.complete

$(CASSANDRA_LIB)/.complete: tools/jars/cassandra/pom.xml
	rm -rf $(CASSANDRA_LIB) && mkdir -p $(CASSANDRA_LIB)
	$(MVN_COPY) -f $< -DoutputDirectory=$(CASSANDRA_LIB)
	touch $@

$(ZOOKEEPER_LIB)/.complete: tools/jars/zookeeper/pom.xml
	rm -rf $(ZOOKEEPER_LIB) && mkdir -p $(ZOOKEEPER_LIB)
	$(MVN_COPY) -f $< -DoutputDirectory=$(ZOOKEEPER_LIB)
	touch $@

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

clean-venv:
	rm -rf $(VENV)
