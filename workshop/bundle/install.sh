#!/bin/sh
# Linux and macOS: install the course from this bundle (no network needed). Options: see install.py.
set -e
cd "$(dirname "$0")"
want=$(sed -n 's/.*"python": "\([0-9.]*\)".*/\1/p' manifest.json)
for py in "python$want" python3 python; do
  if command -v "$py" >/dev/null 2>&1 && "$py" -c "import sys; sys.exit(f'{sys.version_info[0]}.{sys.version_info[1]}' != '$want')"; then
    exec "$py" install.py "$@"
  fi
done
echo "This bundle needs Python $want (python.org, or your package manager). Then run this again." >&2
exit 1
