# robot_agent: `make demo` runs the main job, `make test` runs every test. Both set up first.
SHELL := /bin/bash
.DEFAULT_GOAL := help
IN_ENV := scripts/in-env

.PHONY: help setup demo test lint typecheck unit ros e2e bench clean clean-venv

help:
	@echo "make demo    run the main job (sets up first)"
	@echo "make test    lint, type-check and run all tests (sets up first)"
	@echo "make setup   install everything into .venv and build the interfaces (idempotent)"
	@echo "make bench   benchmarks, the whole-stack task suite included (results in reports/bench/)"
	@echo "make clean   remove build/, install/, log/ (keeps .venv)"

setup:
	@scripts/setup.sh

demo: setup
	@$(IN_ENV) robot-agent demo --out reports/demo

test: setup
	@$(IN_ENV) scripts/test.sh

lint: setup
	@$(IN_ENV) ruff check . && $(IN_ENV) ruff format --check .

typecheck: setup
	@$(IN_ENV) mypy

unit ros e2e: setup
	@$(IN_ENV) python -m pytest test/$@

bench: setup
	@$(IN_ENV) python benchmarks/sim_bench.py --out reports/bench
	@$(IN_ENV) python benchmarks/perception_bench.py --out reports/bench
	@$(IN_ENV) python benchmarks/size_bench.py --out reports/bench
	@$(IN_ENV) python -m benchmarks.identity_bench --out reports/bench
	@$(IN_ENV) python -m benchmarks.identity_bench --detector color --out reports/bench
	@$(IN_ENV) python benchmarks/planner_bench.py --backend offline --out reports/bench
	@$(IN_ENV) python benchmarks/planner_bench.py --backend offline --dataset benchmarks/generated_commands.yaml \
		--dataset benchmarks/handwritten_commands.yaml --split test --out reports/bench/planner_test
	@$(IN_ENV) python benchmarks/planner_bench.py --backend offline --dataset benchmarks/generated_commands.yaml \
		--dataset benchmarks/handwritten_commands.yaml --split dev --out reports/bench/planner_dev
	@$(IN_ENV) python benchmarks/nav_bench.py --trials 20 --out reports/bench
	@$(IN_ENV) python benchmarks/agent_start_bench.py --runs 3
	@$(IN_ENV) python benchmarks/cancel_bench.py --trials 6 --load 0 2 --out reports/bench
	@$(IN_ENV) python benchmarks/manip_plan_bench.py --out reports/bench
	@$(IN_ENV) python benchmarks/manip_bench.py --worlds kitchen office apartment --out reports/bench
	@$(IN_ENV) robot-agent bench --scenarios benchmarks/scenarios --out reports/bench/tasks/offline
	@$(IN_ENV) robot-agent bench --scenarios benchmarks/scenarios --kinds moved --ablation no_filtering \
		--out reports/bench/tasks/offline_no_filtering
	@$(IN_ENV) robot-agent bench --scenarios benchmarks/scenarios --kinds moved,reliability --ablation no_replanning \
		--out reports/bench/tasks/offline_no_replanning

clean:
	rm -rf build install log

clean-venv: clean
	rm -rf .venv
