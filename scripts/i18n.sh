#!/usr/bin/env bash
# Message catalogues: extract the UI strings from the source into
# madoguchi/translations/messages.pot and merge them into the Japanese
# catalogue (ja/LC_MESSAGES/messages.po), ready to translate.
#
#   bash scripts/i18n.sh           extract and update; silent on success
#   bash scripts/i18n.sh --check   the same, then fail listing every msgid
#                                  without a Japanese translation (or fuzzy)
#
# The template is only rewritten when a message changed, so running this
# leaves no diff behind when nothing did. Compiling (.mo) is done by
# scripts/setup.sh; compiled catalogues are not committed.
set -euo pipefail
cd "$(dirname "$0")/.."

check=0
for arg in "$@"; do
  case "$arg" in
    --check) check=1 ;;
    -h | --help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "i18n: unknown argument: $arg (usage: $0 [--check])" >&2; exit 2 ;;
  esac
done

if [ -x .venv/bin/pybabel ]; then
  PYBABEL=.venv/bin/pybabel
  PYTHON=.venv/bin/python
else
  PYBABEL=pybabel
  PYTHON=${PYTHON:-python3}
fi

TRANSLATIONS=madoguchi/translations
POT=$TRANSLATIONS/messages.pot
LOCALE=ja
PO=$TRANSLATIONS/$LOCALE/LC_MESSAGES/messages.po

new_pot=$(mktemp "${TMPDIR:-/tmp}/madoguchi-pot.XXXXXX")
trap 'rm -f "$new_pot"' EXIT

"$PYBABEL" -q extract -F babel.cfg -k _l --project=Madoguchi -o "$new_pot" .

# Keep the old template (and its date) when only POT-Creation-Date differs.
without_date() { grep -v '^"POT-Creation-Date: ' "$1"; }
if [ ! -f "$POT" ] || ! cmp -s <(without_date "$POT") <(without_date "$new_pot"); then
  cp "$new_pot" "$POT"
fi

if [ -f "$PO" ]; then
  "$PYBABEL" -q update -i "$POT" -d "$TRANSLATIONS" -l "$LOCALE" --no-fuzzy-matching --ignore-obsolete
else
  "$PYBABEL" -q init -i "$POT" -d "$TRANSLATIONS" -l "$LOCALE"
fi

if [ "$check" = 1 ]; then
  "$PYTHON" - "$PO" <<'PY'
import sys

from babel.messages.pofile import read_po

path = sys.argv[1]
with open(path, "rb") as f:
    catalog = read_po(f)
missing = []
for message in catalog:
    if not message.id:
        continue
    strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
    if message.fuzzy or not all(strings):
        msgid = message.id[0] if isinstance(message.id, (list, tuple)) else message.id
        where = ", ".join(f"{file}:{line}" for file, line in message.locations[:2])
        status = "fuzzy" if message.fuzzy else "untranslated"
        missing.append(f"  {status}: {msgid!r} ({where})")
if missing:
    print(f"i18n: {len(missing)} message(s) without a Japanese translation in {path}:",
          file=sys.stderr)
    print("\n".join(missing), file=sys.stderr)
    sys.exit(1)
PY
fi
