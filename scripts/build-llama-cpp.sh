#!/usr/bin/env bash
# Install llama-cpp-python[server] + gguf into the virtualenv for the inference-service tests.
#
# The package index has no wheel for llama-cpp-python, so the sdist is compiled ONCE (CPU only, no
# multimodal library, no tests/examples) into a wheel cache outside the work tree; every later run
# installs the cached wheel in seconds. Measured on this 2-core machine: 632 s of CPU (33 min wall
# while seven other test suites shared the cores; ~6 min on idle cores), 680 MB peak memory.
#
#   scripts/build-llama-cpp.sh [VENV]      (default .venv)
#   STEADYOPS_WHEEL_CACHE=/path            (default ~/.cache/steadyops/wheels)
set -euo pipefail
VENV=${1:-.venv}
VERSION=0.3.36
CACHE=${STEADYOPS_WHEEL_CACHE:-$HOME/.cache/steadyops/wheels}
PIP=("$VENV/bin/python" -m pip --quiet --disable-pip-version-check --no-input)
mkdir -p "$CACHE"
wheel=$(ls "$CACHE"/llama_cpp_python-"$VERSION"-*.whl 2>/dev/null | head -1 || true)
if [[ -z "$wheel" ]]; then
  echo "building llama-cpp-python $VERSION from source once (several minutes; cached in $CACHE)"
  start=$(date +%s)
  CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2} \
  CMAKE_ARGS="-DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF" \
    "${PIP[@]}" wheel --no-deps "llama-cpp-python==$VERSION" -w "$CACHE"
  echo "llama-cpp-python built in $(( $(date +%s) - start )) s"
  wheel=$(ls "$CACHE"/llama_cpp_python-"$VERSION"-*.whl | head -1)
fi
"${PIP[@]}" install "${wheel}[server]" "gguf>=0.10"
