# The two commands of the README, and the set-up they share. Each step is skipped when its
# inputs have not changed, so a second run with nothing changed is quick.
SHELL := /bin/bash
STAMPS := .stamps
WEB_SRC := $(shell find web/src web/public -type f 2>/dev/null) $(wildcard web/*.html web/*.ts web/*.json)

.PHONY: demo test bench setup system web services-stop

demo: system $(STAMPS)/python web/dist/index.html
	.venv/bin/twin demo

test: $(STAMPS)/python web/dist/index.html
	scripts/setup-system --test
	scripts/test

bench: $(STAMPS)/python web/dist/index.html
	scripts/setup-system --test
	scripts/bench

setup: system $(STAMPS)/python web/dist/index.html

system:
	scripts/setup-system

web: web/dist/index.html

$(STAMPS)/python: pyproject.toml scripts/setup-python
	scripts/setup-system
	scripts/setup-python
	@mkdir -p $(STAMPS) && touch $@

web/dist/index.html: $(WEB_SRC)
	scripts/setup-web

services-stop:
	.venv/bin/twin services stop
