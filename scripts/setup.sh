#!/usr/bin/env bash
# Idempotent set-up: Debian packages, virtual environment, the package with its test, notebook and docs extras, and
# Pyomo's PyNumero ASL library built offline against Debian's ASL (needed by Pyomo's cyipopt solver).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
venv="$root/.venv"
python="${PYTHON:-python3}"

# texlive: pdflatex and booktabs, to check in the tests that the LaTeX tables compile (about 30 s to install);
# chromium and chromium-driver: headless browser in which the tests open the HTML report (about 20 s)
apt_packages=(libamplsolver-dev cmake g++ make pkg-config texlive-latex-base texlive-latex-recommended chromium chromium-driver)
missing=()
for p in "${apt_packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -x "$venv/bin/python" ]; then
    echo "setup: creating virtual environment $venv"
    "$python" -m venv "$venv"
fi
stamp="$venv/.cge-installed"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "setup: installing cge with test, notebook and docs extras"
    "$venv/bin/pip" install -q --upgrade pip >/dev/null
    "$venv/bin/pip" install -q -e ".[test,notebooks,docs]"
    touch "$stamp"
fi

libdir="${PYOMO_CONFIG_DIR:-$HOME/.pyomo}/lib"
if [ ! -f "$libdir/libpynumero_ASL.so" ]; then
    echo "setup: building PyNumero ASL library into $libdir"
    src="$("$venv/bin/python" -c 'import pyomo, os; print(os.path.join(os.path.dirname(pyomo.__file__), "contrib", "pynumero", "src"))')"
    build="$(mktemp -d)"
    cmake -S "$src" -B "$build" \
        -DASL_INCLUDE_DIR=/usr/include/ampl-netlib-solvers \
        -DASL_LIBRARY=/usr/lib/x86_64-linux-gnu/libamplsolver.so \
        -DCMAKE_INSTALL_PREFIX="$build/install" >"$build/cmake.log" 2>&1
    make -C "$build" -j2 >"$build/make.log" 2>&1
    make -C "$build" install >"$build/install.log" 2>&1
    mkdir -p "$libdir"
    cp "$(find "$build/install" -name 'libpynumero_ASL.so*' | head -n 1)" "$libdir/libpynumero_ASL.so"
    rm -rf "$build"
fi
