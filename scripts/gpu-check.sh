#!/usr/bin/env bash
# Check shiftnas's GPU paths on an air-gapped CUDA machine (no package index there), in two steps:
#
#   scripts/gpu-check.sh wheelhouse   # here, with the package index: the wheels the GPU machine
#                                     # lacks, for CPython 3.12 on manylinux2014_x86_64 -> wheelhouse/
#   scripts/gpu-check.sh run          # there, with wheelhouse/ carried over: install without an
#                                     # index, then benchmarks/gpu_check.py within 8 minutes
#
# The GPU machine is expected to have Python 3.12 with torch (CUDA), torchvision, onnx, onnxruntime
# (CPU build), numpy, scipy, matplotlib, rich, typer, pyyaml, pillow, psutil and nvidia-ml-py. The
# check needs pydantic, pymoo, fvcore and pytest on top; it runs with tracking off, so MLflow and its
# large dependency tree stay behind (`shiftnas doctor` there reports mlflow missing and exits 2: that
# is expected and recorded). The wheelhouse and the git-tracked tree must fit in 64 MiB together.
#
# Environment: PYTHON (default python3), WHEELHOUSE (default ./wheelhouse), LIMIT_MIB (64),
# DEADLINE_S (480: the whole `run`, installation included), PY_VERSION (3.12: the GPU machine's
# Python; another version builds a wheelhouse for trying `run` on a CPU machine).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-python3}
WHEELHOUSE=${WHEELHOUSE:-$ROOT/wheelhouse}
LIMIT_MIB=${LIMIT_MIB:-64}
DEADLINE_S=${DEADLINE_S:-480}
PY_VERSION=${PY_VERSION:-3.12}
TARGET=(--python-version "$PY_VERSION" --platform manylinux2014_x86_64 --only-binary=:all:)
# what the check imports beyond the GPU machine's stack (pytest-timeout: the suite's timeouts)
NEEDED=("pydantic>=2.5" "pymoo>=0.6.1" "fvcore>=0.1.5" "pytest>=8" "pytest-timeout>=2.2")
# published as source only; pure Python, so wheels built here install anywhere
SOURCE_ONLY=(fvcore iopath)
# installed there already (the stack above and what it depends on): left out of the wheelhouse
PROVIDED="torch torchvision onnx onnxruntime numpy scipy matplotlib rich typer pyyaml pillow psutil
nvidia-ml-py contourpy cycler fonttools kiwisolver pyparsing python-dateutil six pygments
markdown-it-py mdurl click shellingham protobuf filelock sympy mpmath networkx jinja2 markupsafe
fsspec setuptools"

die() { echo "gpu-check: $*" >&2; exit 1; }

tree_bytes() { (cd "$ROOT" && git ls-files -z | xargs -0 stat -c %s 2>/dev/null | awk '{s += $1} END {print s + 0}'); }

wheelhouse() {
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    rm -rf "$WHEELHOUSE" && mkdir -p "$WHEELHOUSE"
    echo "building wheels of shiftnas and of the source-only ${SOURCE_ONLY[*]}"
    "$PYTHON" -m pip wheel -q --no-deps -w "$work/built" "$ROOT" "${SOURCE_ONLY[@]}"
    for wheel in "$work"/built/*.whl; do
        [[ $wheel == *-py3-none-any.whl ]] || die "$(basename "$wheel") is not pure Python"
    done
    echo "resolving ${NEEDED[*]} for CPython $PY_VERSION (metadata only)"
    "$PYTHON" -m pip install -q --dry-run --ignore-installed --report "$work/report.json" \
        --target "$work/unused" --find-links "$work/built" "${TARGET[@]}" "${NEEDED[@]}"
    # the closure of NEEDED that does not pass through a provided package, as name==version
    "$PYTHON" - "$work/report.json" "$PROVIDED" "${NEEDED[@]}" >"$work/pins.txt" <<'EOF'
import json, re, sys

norm = lambda name: re.sub(r"[-_.]+", "-", name).lower()
report, provided, roots = json.load(open(sys.argv[1])), set(map(norm, sys.argv[2].split())), sys.argv[3:]
meta = {norm(i["metadata"]["name"]): i["metadata"] for i in report["install"]}
todo, keep = [norm(re.split(r"[<>=!~ \[]", r)[0]) for r in roots], set()
while todo:
    name = todo.pop()
    if name in keep or name in provided or name not in meta:  # not in meta: its marker is false
        continue
    keep.add(name)
    for req in meta[name].get("requires_dist") or []:
        if "extra ==" not in req:
            todo.append(norm(re.split(r"[<>=!~;( \[]", req)[0]))
print("\n".join(f"{meta[n]['name']}=={meta[n]['version']}" for n in sorted(keep)))
EOF
    echo "downloading $(wc -l <"$work/pins.txt") wheels"
    "$PYTHON" -m pip download -q --no-deps -d "$WHEELHOUSE" --find-links "$work/built" \
        "${TARGET[@]}" -r "$work/pins.txt"
    cp "$work"/built/shiftnas-*.whl "$WHEELHOUSE/"
    cp "$work/pins.txt" "$WHEELHOUSE/requirements.txt"
    local house tree limit
    house=$(find "$WHEELHOUSE" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
    tree=$(tree_bytes)
    limit=$((LIMIT_MIB * 1024 * 1024))
    echo "wheelhouse: $(ls "$WHEELHOUSE"/*.whl | wc -l) wheels, $((house / 1024)) KiB;" \
        "with the tracked tree ($((tree / 1024)) KiB): $(((house + tree) / 1024)) of $((limit / 1024)) KiB"
    if ((house + tree > limit)); then
        die "wheelhouse + tree = $(((house + tree) / 1048576)) MiB, over the ${LIMIT_MIB} MiB that can be carried"
    fi
}

# Installs into a venv that sees the system's packages (--system-site-packages), so the
# preinstalled CUDA torch is used as it is and nothing in the system's site-packages changes;
# --without-pip because ensurepip is often absent (Debian's python3-venv), pip comes from the
# system. `pip install --user` would instead mix the wheels into the user's site for every
# later program. Where no venv can be made, or the venv does not see torch (PYTHON is itself a
# venv's), the wheels go to a --target folder on PYTHONPATH instead; without pip, they are
# unpacked there.
install() {
    local venv="$ROOT/.gpu-check-venv" site="$ROOT/.gpu-check-site"
    PY=$PYTHON
    rm -rf "$venv" "$site"
    if "$PYTHON" -m venv --system-site-packages --without-pip "$venv" 2>/dev/null \
        && "$venv/bin/python" -m pip --version >/dev/null 2>&1 \
        && "$venv/bin/python" -c "import torch" 2>/dev/null; then
        PY=$venv/bin/python
        PIP=("$PY" -m pip install -q --no-index --find-links "$WHEELHOUSE")
    elif "$PYTHON" -m pip --version >/dev/null 2>&1; then
        echo "gpu-check: no venv with torch here; installing into $site instead" >&2
        rm -rf "$venv"
        PIP=("$PYTHON" -m pip install -q --no-index --find-links "$WHEELHOUSE" --target "$site")
        export PYTHONPATH="$site"
    else  # no pip at all: a wheel is a zip archive laid out for site-packages
        echo "gpu-check: no pip here; unpacking the wheels into $site" >&2
        rm -rf "$venv"
        for wheel in "$WHEELHOUSE"/*.whl; do "$PYTHON" -m zipfile -e "$wheel" "$site"; done
        export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}"
        PIP=()
    fi
    if ((${#PIP[@]})); then
        # with dependency resolution first, so a clash with the installed stack shows up ...
        if ! "${PIP[@]}" -r "$WHEELHOUSE/requirements.txt"; then
            echo "gpu-check: resolution against the installed stack failed; installing --no-deps" >&2
            "${PIP[@]}" --no-deps -r "$WHEELHOUSE/requirements.txt"
        fi
        # ... shiftnas itself without its dependencies (mlflow stays behind)
        "${PIP[@]}" --no-deps "$WHEELHOUSE"/shiftnas-*.whl
    fi
    # the tree's own code wins over the installed wheel (which provides the `shiftnas` command)
    export PYTHONPATH="$ROOT/src${PYTHONPATH:+:$PYTHONPATH}"
}

run() {
    [[ -f $WHEELHOUSE/requirements.txt ]] \
        || die "no $WHEELHOUSE: run 'scripts/gpu-check.sh wheelhouse' where the index is reachable and carry the folder"
    local start=$SECONDS
    install
    echo "== installed in $((SECONDS - start)) s with $("$PY" --version)"
    cd "$ROOT"
    echo "== shiftnas doctor"
    timeout 60 "$PY" -m shiftnas doctor --run-dir "$ROOT/runs" || echo "(doctor exited $?)"
    local left=$((DEADLINE_S - (SECONDS - start)))
    ((left > 60)) || die "only $left s of DEADLINE_S=$DEADLINE_S left after installing"
    # start no section later than 150 s before the deadline; stop hard at the deadline
    timeout "$left" "$PY" benchmarks/gpu_check.py --budget-s $((left - 150)) "$@" \
        || echo "gpu-check: benchmarks/gpu_check.py exited $? (what it finished is in the JSON)" >&2
    echo "== done in $((SECONDS - start)) s"
}

case "${1:-}" in
    wheelhouse) wheelhouse ;;
    run) shift; run "$@" ;;
    *) die "usage: scripts/gpu-check.sh wheelhouse|run [gpu_check.py options]" ;;
esac
