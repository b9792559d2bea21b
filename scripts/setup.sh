#!/usr/bin/env bash
# Everything a fresh Debian machine needs: system packages (when root), a
# virtualenv in .venv and the project installed into it. Safe to run again:
# it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# fonts-ipaexfont: Japanese glyphs embedded in PDFs; libharfbuzz-subset0: WeasyPrint
# subsets fonts with it (about 4x faster); libpango*: WeasyPrint's layout.
SYSTEM_PACKAGES=(fonts-ipaexfont libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0)
if [ "${MADOGUCHI_BROWSER_TESTS:-}" = "1" ]; then
  SYSTEM_PACKAGES+=(chromium)
fi

missing=()
for pkg in "${SYSTEM_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = "0" ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: these Debian packages are missing: ${missing[*]}" >&2
    echo "setup: run as root, or ask an administrator: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.madoguchi-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing Python packages"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip 2>&1 | grep -v 'is ignored' || true
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]' 2>&1 | grep -v 'is ignored' || true
  .venv/bin/python -c "import madoguchi, forms, workflow, flask, weasyprint" 
  touch "$stamp"
fi

# Compiled message catalogues are build products, not sources.
.venv/bin/pybabel compile -d madoguchi/translations >/dev/null
