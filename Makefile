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

# `make test` (every submission) runs the scenarios in three lanes side by side (testbed/bin/run-scenarios):
# most of a scenario's time is waiting on restarts, gates and quorums, so lanes beat one after another on
# 2 cores. Lane C is the migration alone, at MIGRATION_DEPTH=submission (each phase of its second pass once);
# lane B KRaft, secure and prod-security. The lanes share no published port or Docker network (default and
# containers, which both publish 2181/9094/8080, are in lane A). LANES=2 runs lanes B and C as one, LANES=1
# all in one lane.
# All ten scenarios took 95-102 min on this machine (Dec 2026), over CI's 90, so `make test-nightly` runs what
# make test leaves out: the upgrade scenario and the migration at MIGRATION_DEPTH=full (every phase twice).
LANE_A := default containers zookeeper zookeeper-ensemble kafka-cluster
LANE_B := kraft secure prod-security
LANE_C := migration
NIGHTLY := upgrade
SCENARIOS := $(LANE_A) $(LANE_B) $(LANE_C) $(NIGHTLY)
LANES ?= 3
NOT_RUN_NOTE := Left to make test-nightly: the upgrade scenario, and the migration's second run of each phase.

.PHONY: help venv host images fixtures lint unit test test-nightly demo demo-check demo-down bench no-lab $(SCENARIOS:%=molecule-%) clean

help:
	@echo "make demo       deploy the stack to the local lab (Docker containers on this machine)"
	@echo "make demo MODE=container   the same stack as containers of the images (the seed's compose, done right)"
	@echo "make demo-check run the commands make demo prints (kcat, Kafka's console tools, kafka-ui API)"
	@echo "make demo-down  remove the local lab"
	@echo "make test       lint + unit tests + the Molecule scenarios of every submission ($(LANE_A) $(LANE_B) $(LANE_C))"
	@echo "make test-nightly  what make test leaves out: $(NIGHTLY), and migration with every phase run twice"
	@echo "make bench      cold converge, no-op re-runs and fact-gathering floor of the local stack, both modes"
	@echo "make lint       yamllint + ansible-lint (production profile) + ansible-galaxy collection build"
	@echo "make unit       Python unit tests of the plugins"
	@echo "make molecule-<scenario>   one scenario, e.g. make molecule-zookeeper-ensemble"

venv: $(VENV)/.installed
$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements.txt
	touch $@

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

# run-scenarios prints the figures the scenarios measured (testbed/.cache/figures), then its summary last.
test: no-lab lint unit fixtures
	@rm -rf testbed/.cache/figures testbed/.cache/logs
	export MIGRATION_DEPTH=submission NOT_RUN_NOTE="$(NOT_RUN_NOTE)"; \
	case "$(LANES)" in \
	  1) testbed/bin/run-scenarios "$(LANE_A) $(LANE_B) $(LANE_C)" ;; \
	  2) testbed/bin/run-scenarios "$(LANE_A)" "$(LANE_B) $(LANE_C)" ;; \
	  *) testbed/bin/run-scenarios "$(LANE_A)" "$(LANE_B)" "$(LANE_C)" ;; \
	esac

# The rest, nightly (or before a release): the upgrade beside the migration at full depth.
test-nightly: no-lab lint unit fixtures
	@rm -rf testbed/.cache/figures testbed/.cache/logs
	MIGRATION_DEPTH=full testbed/bin/run-scenarios "$(NIGHTLY)" "migration"

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
