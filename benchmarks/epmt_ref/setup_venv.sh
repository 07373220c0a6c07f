#!/usr/bin/env bash
# Create (idempotently) the venv that holds the reference EPMT 5.0.1, outside the repo.
#   venv:   ${EPMT_REF_VENV:-$HOME/.cache/epmt_graph/epmt-venv}
#   python: ${EPMT_REF_PYTHON}, else a CPython 3.11 / 3.10 from pyenv or PATH
#           (epmt 5.0.1 declares Requires-Python >=3.10,<3.12 and pins numpy 1.26.4,
#           pandas 1.5.3, SQLAlchemy 1.4.54).
# Prints the venv's python path on stdout (everything else goes to stderr).
set -euo pipefail

VENV="${EPMT_REF_VENV:-$HOME/.cache/epmt_graph/epmt-venv}"
PY="$VENV/bin/python"

ok() {
    [ -x "$PY" ] && "$PY" - <<'PY' >/dev/null 2>&1
import importlib.metadata as m, sys
assert m.version("epmt") == "5.0.1"
import epmt.epmt_default_settings, pandas, numpy, sqlalchemy   # noqa: F401
assert pandas.__version__ == "1.5.3" and numpy.__version__ == "1.26.4" and sqlalchemy.__version__ == "1.4.54"
PY
}

if ok; then
    echo "$PY"
    exit 0
fi

pick_python() {
    if [ -n "${EPMT_REF_PYTHON:-}" ]; then echo "$EPMT_REF_PYTHON"; return; fi
    local c
    for c in "${PYENV_ROOT:-/root/.pyenv}"/versions/3.11.*/bin/python3 \
             "${PYENV_ROOT:-/root/.pyenv}"/versions/3.10.*/bin/python3 \
             "$(command -v python3.11 || true)" "$(command -v python3.10 || true)"; do
        if [ -n "$c" ] && [ -x "$c" ]; then echo "$c"; return; fi
    done
    echo "no Python 3.10/3.11 found; set EPMT_REF_PYTHON" >&2
    exit 1
}

BASE_PY="$(pick_python)"
echo "creating $VENV with $BASE_PY" >&2
rm -rf "$VENV"
mkdir -p "$(dirname "$VENV")"
"$BASE_PY" -m venv "$VENV"
"$PY" -m pip install -q --upgrade pip >&2

# The versions that were resolved and verified with epmt 5.0.1 when the fixtures were made.
CONSTRAINTS="$(mktemp)"
trap 'rm -f "$CONSTRAINTS"' EXIT
cat > "$CONSTRAINTS" <<'PINS'
alembic==1.19.2
blinker==1.9.0
click==8.5.1
cloudpickle==3.1.3
contourpy==1.3.3
cycler==0.12.1
Flask==3.1.3
fonttools==4.68.0
greenlet==3.5.6
itsdangerous==2.2.0
Jinja2==3.1.6
joblib==1.6.0
kiwisolver==1.5.1
kneed==0.9.0
llvmlite==0.50.0
lockfile==0.12.2
Mako==1.4.3
MarkupSafe==3.0.4
matplotlib==3.11.2
narwhals==2.29.0
numba==0.68.1
numpy==1.26.4
packaging==26.4
pandas==1.5.3
pillow==13.0.0
plotly==7.1.0
psycopg2-binary==2.9.13
py-cpuinfo==9.0.0
pyod==3.6.7
pyparsing==3.3.3
python-daemon==3.1.2
python-dateutil==4.0.0
pytz==2026.6
scikit-learn==1.9.1
scipy==1.17.1
six==1.17.0
SQLAlchemy==1.4.54
threadpoolctl==3.8.0
typing_extensions==4.16.0
tzdata==2026.6
Werkzeug==3.1.9
PINS

if ! "$PY" -m pip install -q -c "$CONSTRAINTS" "epmt==5.0.1" >&2; then
    # a pinned version may have vanished from the index: fall back to epmt's own pins only
    echo "pinned install failed; retrying with epmt's own pins only" >&2
    "$PY" -m pip install -q "epmt==5.0.1" >&2
fi

ok || { echo "epmt 5.0.1 venv at $VENV failed its import check" >&2; exit 1; }
echo "$PY"
