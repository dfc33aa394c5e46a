# kafka-stack-ansible: `make demo` deploys the stack to the local lab, `make test` runs every check.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := $(CURDIR)/.venv
PYTHON ?= python3
export ANSIBLE_HOME := $(CURDIR)/.ansible
export PATH := $(VENV)/bin:$(PATH)
export ANSIBLE_FORCE_COLOR ?= false
# `make demo` probes upstream (auto) unless ARTIFACTS is given; the tests default to the test bed.
DEMO_ARTIFACTS := $(or $(ARTIFACTS),auto)
# testbed (default): stand-ins and fixtures built here; upstream: the real Apache artifacts.
export ARTIFACTS ?= testbed
# make demo: host (default) = the roles install the services in systemd containers (inventories/local);
# container = the roles run the services as containers of their images (inventories/local-containers).
MODE ?= host
DEMO_INVENTORY := $(if $(filter container,$(MODE)),inventories/local-containers,inventories/local)

# `make test` runs every step of testbed/suite.json with testbed/bin/run-suite: the venv and fixtures, lint,
# the unit tests and every Molecule scenario, in LANES lanes side by side (default 3, the migration first in
# the CPU: testbed/suite.json's critical step), and ends with a table of each step's wall time and CPU seconds and the line
# `make test: N passed, N failed, N skipped`. `make test STEPS="kraft default"` runs only those steps.
SCENARIOS := $(sort $(patsubst molecule/%/molecule.yml,%,$(wildcard molecule/*/molecule.yml)))
STEPS ?=

.PHONY: help venv host images fixtures lint unit test demo demo-check demo-down bench no-lab $(SCENARIOS:%=molecule-%) clean

help:
	@echo "make demo       deploy the stack to the local lab (Docker containers on this machine)"
	@echo "make demo MODE=container   the same stack as containers of the images (the seed's compose, done right)"
	@echo "make demo-check run the commands make demo prints (kcat, Kafka's console tools, kafka-ui API)"
	@echo "make demo-down  remove the local lab"
	@echo "make test       everything: lint, unit tests and every Molecule scenario ($(SCENARIOS)), measured"
	@echo "make bench      cold converge, no-op re-runs and fact-gathering floor of the local stack, both modes"
	@echo "make lint       yamllint + ansible-lint (production profile) + ansible-galaxy collection build"
	@echo "make unit       Python unit tests of the plugins"
	@echo "make molecule-<scenario>   one scenario, e.g. make molecule-zookeeper-ensemble"

# .venv links to a venv built once per machine and requirements.txt (testbed/bin/ensure-venv).
venv:
	@PYTHON=$(PYTHON) testbed/bin/ensure-venv

host:
	testbed/bin/ensure-host

images: host
	testbed/images/build-base.sh bookworm trixie

fixtures: images venv
ifeq ($(ARTIFACTS),testbed)
	testbed/fixtures/zookeeper-archive/build.sh
	testbed/fixtures/kafka-dist/build.sh
	testbed/fixtures/build-releases.sh molecule/upgrade/vars/versions.yml
	testbed/fixtures/build-releases.sh molecule/kraft/vars/versions.yml
	testbed/standins/kafka-ui/build.sh
	testbed/standins/images/build.sh
endif

lint: venv
	yamllint --strict .
	ansible-lint --profile production --strict
	ansible-galaxy collection build --force --output-path .ansible/build

unit: venv
	pytest

$(SCENARIOS:%=molecule-%): molecule-%: venv fixtures
	molecule test --scenario-name $*

# The default and containers scenarios publish 2181, 9094 and 8080 on 127.0.0.1, as the lab of
# `make demo` does (either mode).
no-lab: host
	@if docker ps -q --filter label=kafka-stack.lab=local | grep -q . \
	    || docker ps -q --filter label=kafka-stack.cluster=local | grep -q .; then \
	  echo "The local lab (make demo) holds 127.0.0.1:2181/9094/8080, which the scenarios need." >&2; \
	  echo "Remove it first with: make demo-down" >&2; exit 1; fi
	@busy=$$(ss -Hltn '( sport = :2181 or sport = :9094 or sport = :8080 )' 2>/dev/null | awk '{print $$4}' | xargs); \
	if [ -n "$$busy" ]; then \
	  echo "Something else listens on $$busy, which the default and containers scenarios publish:" >&2; \
	  ss -Hltnp '( sport = :2181 or sport = :9094 or sport = :8080 )' >&2; exit 1; fi

# Every step of the suite, measured (testbed/bin/run-suite; it makes the venv and the fixtures first).
test: no-lab
	$(PYTHON) testbed/bin/run-suite $(STEPS)

# The other mode's lab holds the same ports: refuse rather than remove it (and its data) unasked.
demo: venv images
	@other=$(if $(filter container,$(MODE)),kafka-stack.lab=local,kafka-stack.cluster=local); \
	if docker ps -q --filter label=$$other | grep -q .; then \
	  echo "The local lab of the other mode is running and holds 127.0.0.1:2181/9094/8080." >&2; \
	  echo "Remove it first with: make demo-down" >&2; exit 1; fi
	ansible-playbook -i $(DEMO_INVENTORY) playbooks/local_lab.yml
	extra=$$(MODE=$(MODE) ARTIFACTS=$(DEMO_ARTIFACTS) testbed/bin/demo-artifacts) && \
	ansible-playbook -i $(DEMO_INVENTORY) site.yml $$extra && \
	ansible-playbook -i $(DEMO_INVENTORY) playbooks/local_lab.yml --tags summary $$extra

demo-check: venv
	testbed/bin/demo-check $(DEMO_INVENTORY)

bench: venv images
	testbed/bin/bench

# Removes the lab of both modes (containers, and in container mode the named volumes and network).
demo-down: venv
	ansible-playbook -i inventories/local playbooks/local_lab.yml -e local_lab_state=absent
	ansible-playbook -i inventories/local-containers playbooks/local_lab.yml -e local_lab_state=absent

clean:
	rm -rf .ansible testbed/.cache
	-docker image prune -f --filter label=kafka-stack.recipe
