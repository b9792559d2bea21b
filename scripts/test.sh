#!/usr/bin/env bash
# Set up everything, then run the whole test suite with lint and type checks.
# DATABASE_URL=postgresql+psycopg://... runs the database tests on PostgreSQL
# instead of a throw-away SQLite file.
set -euo pipefail
cd "$(dirname "$0")/.."
MADOGUCHI_BROWSER_TESTS=1 bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
