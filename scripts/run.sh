#!/usr/bin/env bash
# Set up everything, then run Madoguchi on its embedded default: SQLite in
# instance/, the shipped procedures published, at http://127.0.0.1:5000/
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/madoguchi demo --host "${HOST:-127.0.0.1}" --port "${PORT:-5000}" "$@"
