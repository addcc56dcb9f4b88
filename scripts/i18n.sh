#!/usr/bin/env bash
# Re-extract the translatable texts, update the Spanish catalog and compile it (make i18n).
#
# Uses the pybabel of $VENV (default: .venv at the repository root). Afterwards, translate every
# entry the script lists as untranslated or fuzzy in cli/locale/es/LC_MESSAGES/brigada.po (remove
# the "#, fuzzy" flag once checked) and run it again so the .mo matches; tests/test_i18n.py fails
# until both are done. Running it twice in a row changes nothing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
[[ -d "$VENV" ]] && VENV="$(cd "$VENV" && pwd)"  # a relative $VENV is relative to the caller
cd "$ROOT"

PYBABEL="$VENV/bin/pybabel"
if [[ ! -x "$PYBABEL" ]]; then
    echo "i18n: $PYBABEL not found; install the dev extras: $VENV/bin/pip install -e '.[dev]'" >&2
    exit 1
fi

DOMAIN=brigada
LOCALES=cli/locale
POT="$LOCALES/$DOMAIN.pot"
LANGS=(es)
WIDTH=100
VERSION="$("$VENV/bin/python" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')"

tmp="$(mktemp)"
trap 'rm -f "$tmp"' EXIT

# 1. Extract. Same method map (babel.cfg) and keywords as tests/test_i18n.py.
"$PYBABEL" --quiet extract -F babel.cfg --no-default-keywords -k _ -k N_ -k ngettext:1,2 -k pgettext:1c,2 \
    --project=Brigada --version="$VERSION" --copyright-holder="Brigada" \
    --sort-by-file --width="$WIDTH" -o "$tmp" .
# Keep the old template when only its creation date would change, so a no-op run leaves no diff.
if [[ -f "$POT" ]] && diff -q -I '^"POT-Creation-Date:' "$POT" "$tmp" >/dev/null; then
    :
else
    mkdir -p "$LOCALES"
    cat "$tmp" >"$POT"
fi

# 1b. click's own texts ("Usage:", "Missing option", "Did you mean"...), extracted from the click
#     installed here into a domain of their own (cli.i18n.localize_click routes click to it).
#     No locations: the template then depends on click's version only, not on where it is.
CLICK_DIR="$("$VENV/bin/python" -c 'import click, os; print(os.path.dirname(click.__file__))')"
CLICK_POT="$LOCALES/click.pot"
"$PYBABEL" --quiet extract --no-default-keywords -k _ -k ngettext:1,2 --no-location \
    --project=click --version="$("$VENV/bin/python" -c 'import click; print(click.__version__)' 2>/dev/null)" \
    --sort-output --width="$WIDTH" -o "$tmp" "$CLICK_DIR"
if [[ ! -f "$CLICK_POT" ]] || ! diff -q -I '^"POT-Creation-Date:' "$CLICK_POT" "$tmp" >/dev/null; then
    cat "$tmp" >"$CLICK_POT"
fi

# 2. Merge the template into each catalog (new entries empty, changed ones fuzzy, removed ones
#    dropped).
for lang in "${LANGS[@]}"; do
    for pair in "$DOMAIN:$POT" "click:$CLICK_POT"; do
        domain="${pair%%:*}" template="${pair#*:}"
        if [[ -f "$LOCALES/$lang/LC_MESSAGES/$domain.po" ]]; then
            "$PYBABEL" --quiet update -D "$domain" -i "$template" -d "$LOCALES" -l "$lang" \
                --width="$WIDTH" --ignore-obsolete --previous
        else
            "$PYBABEL" --quiet init -D "$domain" -i "$template" -d "$LOCALES" -l "$lang" --width="$WIDTH"
        fi
    done
done

# 3. List what still needs a translator (compiling leaves those messages in English).
"$VENV/bin/python" - "$LOCALES" "$DOMAIN" "${LANGS[@]}" <<'PY'
import sys

from babel.messages.pofile import read_po

locales, domain, *langs = sys.argv[1:]
pending = 0
for lang, name in ((lang, name) for lang in langs for name in (domain, "click")):
    path = f"{locales}/{lang}/LC_MESSAGES/{name}.po"
    with open(path, "rb") as f:
        catalog = read_po(f)
    for message in catalog:
        untranslated = not message.string or (isinstance(message.string, tuple) and not all(message.string))
        if message.id and (untranslated or message.fuzzy):
            pending += 1
            state = "fuzzy" if message.fuzzy else "untranslated"
            print(f"i18n: {path}: {state}: {message.id!r}", file=sys.stderr)
if pending:
    print(f"i18n: {pending} message(s) still to translate", file=sys.stderr)
PY

# 4. Compile (fuzzy entries are left out of the .mo).
"$PYBABEL" compile --statistics -D "$DOMAIN" -d "$LOCALES"
"$PYBABEL" compile --statistics -D click -d "$LOCALES"
