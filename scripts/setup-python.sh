#!/usr/bin/env bash
# Creates the virtual environment and installs tunesmith with its dependencies, including
# llama-cpp-python built for a portable x86-64 (AVX2) CPU: a build tuned to the build
# machine's CPU (AVX-512/AMX) crashes on its first decode on some machines. pip caches the
# built wheel, so later runs take seconds.
set -euo pipefail
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
export CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
export PIP_DISABLE_PIP_VERSION_CHECK=1
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
echo "installing tunesmith and its dependencies into $VENV (the first build of llama-cpp-python takes a few minutes)" >&2
"$VENV/bin/python" -m pip install -q -e '.[dev,local,server,score]'

# A decode on the embedded model proves the llama.cpp build runs on this CPU. If a wheel
# built without the portable flags came from pip's cache and crashes, rebuild it.
smoke='from tunesmith.backends.local import LocalBackend
from tunesmith.backends.base import Prompt
LocalBackend().complete(Prompt("X: 1\n"), grammar=None, max_tokens=2, temperature=0.0, seed=1)'
if ! "$VENV/bin/python" -c "$smoke" >/dev/null 2>&1; then
    echo "llama-cpp-python failed a test decode; rebuilding it without pip's cache" >&2
    "$VENV/bin/python" -m pip cache remove llama_cpp_python >/dev/null 2>&1 || true
    "$VENV/bin/python" -m pip install -q --force-reinstall --no-deps --no-cache-dir llama-cpp-python
    "$VENV/bin/python" -c "$smoke"
fi

# The decoding loop runs on a narrow copy of the model (tunesmith/decoding/narrow.py), made
# and checked once here rather than in the first composition.
"$VENV/bin/python" -c 'from tunesmith.backends.local import LocalBackend; LocalBackend().decoder()'
