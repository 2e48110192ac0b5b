# Augury: the two commands are `make demo` and `make test`; `make help` lists the rest.
SHELL := /bin/bash
.DEFAULT_GOAL := help
.SUFFIXES:

# Python 3.11 is what Managed Service for Apache Flink 1.20 runs; the project venv uses it.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
UV_VERSION := 0.13.9
LOCAL := .local
UV := $(LOCAL)/uv/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
# Dependency groups each target needs (see pyproject.toml [dependency-groups]).
GROUPS ?= --group dev --group lambda --group flink --group cdk
PYTEST_ARGS ?=

export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
PLATFORM := $(PY) -m localplatform

.PHONY: help venv install up down status logs demo screenshots api openapi notebook notebook-run dashboard-png generate flink-jar flink-zip stream replay synth deploy-local \
	destroy-local cdk-cli test test-unit lint bench load clean

help: ## Show the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(UV):
	@echo "[make] installing uv $(UV_VERSION) into $(LOCAL)/uv (with $(PYTHON))"
	@$(PYTHON) -m venv $(LOCAL)/uv
	@$(LOCAL)/uv/bin/pip install -q --disable-pip-version-check uv==$(UV_VERSION)

# The venv is re-synced when the lock, pyproject.toml or the chosen groups change.
STAMP := $(LOCAL)/venv.stamp
venv: $(UV) ## Create or update .venv from uv.lock
	@if [ ! -x $(PY) ] || [ ! -f $(STAMP) ] || [ "$$(cat $(STAMP))" != "$(GROUPS)" ] \
	    || [ uv.lock -nt $(STAMP) ] || [ pyproject.toml -nt $(STAMP) ]; then \
	  echo "[make] syncing $(VENV) from uv.lock ($(GROUPS))"; \
	  $(UV) sync --frozen --quiet --python $(PYTHON) --no-default-groups $(GROUPS) \
	    && echo "$(GROUPS)" > $(STAMP); \
	fi

install: venv ## Install the local platform (LocalStack venv, offline packages, Redis)
	@$(PLATFORM) install

up: venv ## Start LocalStack and Redis (idempotent)
	@$(PLATFORM) up

down: venv ## Stop the demo's leftover jobs, then everything the platform started
	@$(PLATFORM) down

status: venv ## Show each platform component and its health
	@$(PLATFORM) status

logs: venv ## Show LocalStack's log (COMPONENT=redis for Redis's)
	@$(PLATFORM) logs $(or $(COMPONENT),localstack)

demo: venv flink-jar ## The pipeline live: schedule -> generator -> Kinesis -> Firehose/S3 + Flink -> Redis (HEADLESS=1 DURATION=N)
	@$(PY) -m demo $(if $(HEADLESS),--headless) $(if $(DURATION),--duration $(DURATION)) $(ARGS)

screenshots: venv flink-jar ## Retake docs/img/live-view.png and dashboard.png from a real demo run (3-4 min)
	@$(PY) -m demo.screenshots $(ARGS)

api: venv ## Serve the read API and the dashboard page on http://127.0.0.1:8088 (ARGS="--port N")
	@$(PY) -m lambdas.read_api $(ARGS)

openapi: venv ## Regenerate docs/openapi.json from the read API's code
	@$(PY) -m lambdas.read_api --openapi > docs/openapi.json
	@echo "[make] wrote docs/openapi.json"

notebook: venv flink-jar ## Open notebooks/ in JupyterLab (installs the notebook group)
	@$(UV) sync --frozen --quiet --inexact --python $(PYTHON) --no-default-groups $(GROUPS) --group notebook
	@$(VENV)/bin/jupyter lab notebooks/explore.ipynb

notebook-run: venv flink-jar ## Run notebooks/explore.ipynb unattended against the last demo run
	@$(PY) -m notebooks $(ARGS)

dashboard-png: venv ## Render the local CloudWatch dashboard to .local/state/dashboard.png (GetMetricData)
	@$(PLATFORM) dashboard-png $(ARGS)

generate: venv ## Run the click generator once against LocalStack (ARGS="--rate 200 --duration 60")
	@$(PY) -m lambdas.clickgen $(ARGS)

FLINK_JAR := flink_app/target/augury-flink-connectors.jar
$(FLINK_JAR): flink_app/pom.xml $(shell find flink_app/src -name '*.java' 2>/dev/null)
	@echo "[make] building the job's shaded jar (ParseClick + connectors) with Maven"
	@cd flink_app && mvn -q -B -Dstyle.color=never package -DskipTests

flink-jar: $(FLINK_JAR) ## Build (when changed) the job's jar: ParseClick and the Kinesis connector

FLINK_ZIP := flink_app/target/augury-flink-app.zip
$(FLINK_ZIP): $(FLINK_JAR) uv.lock cdk/packaging.py $(wildcard flink_app/*.py flink_app/sql/*.sql augury/*.py)
	@echo "[make] packaging the Managed Flink application zip"
	@$(PY) -m cdk.packaging flink-zip

flink-zip: venv $(FLINK_ZIP) ## Build the Managed Flink zip (job, jar, vendored Python deps)

CDK_OUT := cdk.out
CDK := $(LOCAL)/cdk-cli/node_modules/.bin/cdk
cdk-cli: venv ## Install the pinned CDK CLI and cdklocal into .local/cdk-cli
	@$(PLATFORM) cdk-cli >/dev/null

synth: cdk-cli flink-zip ## Synthesize both modes (AWS into cdk.out/aws, local into cdk.out/local), cdk-nag gated
	@echo "[make] cdk synth: AWS mode -> $(CDK_OUT)/aws"
	@$(CDK) synth --quiet --output $(CDK_OUT)/aws
	@echo "[make] cdk synth: local mode -> $(CDK_OUT)/local"
	@$(CDK) synth --quiet -c local=true --output $(CDK_OUT)/local

deploy-local: cdk-cli ## Deploy the CDK app's local mode to the running LocalStack (cdklocal)
	@$(PLATFORM) deploy

destroy-local: venv ## Remove the local-mode stacks from LocalStack
	@$(PLATFORM) destroy

stream: venv flink-jar ## Run the streaming job against the local platform (ARGS="--start-position TRIM_HORIZON")
	@AUGURY_LOCALSTACK_URL=$${AUGURY_LOCALSTACK_URL:-http://127.0.0.1:4566} $(PY) -m flink_app run $(ARGS)

replay: venv flink-jar ## Replay raw NDJSON into Redis on a local Flink mini-cluster (INPUT=dir|file|s3://...)
	@$(PY) -m flink_app replay --input $(INPUT) $(ARGS)

lint: venv ## ruff and mypy
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/mypy augury lambdas flink_app cdk demo notebooks localstack/localplatform tests bench

test: venv flink-jar flink-zip ## Install what the tests need and run the whole suite (platform started if down)
	@$(PLATFORM) install
	@$(PLATFORM) browser >/dev/null
	@$(MAKE) --no-print-directory lint
	@$(PY) -m pytest $(PYTEST_ARGS)

test-unit: venv flink-zip ## Only the tests that need no server (the CDK synth needs the Flink zip)
	@$(PY) -m pytest -m "not integration" $(PYTEST_ARGS)

bench: venv flink-jar ## Run the benchmarks; results in bench/results/ (JSON and Markdown)
	@$(PLATFORM) up
	@$(PY) -m bench

load: venv ## Paced HTTP load on the local collector, every event counted in Kinesis (RATE=req/s DURATION=s BATCH=n URL=)
	@$(PY) -m bench.load --rate $(or $(RATE),20) --duration $(or $(DURATION),30) $(if $(BATCH),--batch $(BATCH)) $(if $(URL),--url $(URL)) $(ARGS)

clean: ## Remove build outputs (keeps .local tools and state; `make down` first)
	rm -rf cdk.out flink_app/target .pytest_cache .mypy_cache .ruff_cache
