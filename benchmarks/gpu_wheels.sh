#!/usr/bin/env bash
# Prepare build/gpu/ for benchmarks/gpu.py on a GPU machine that has no network.
#
# That machine (this workplace's NVIDIA H200 image: Python 3.12, JAX and PyTorch with CUDA, no
# TensorFlow) holds numpy, h5py, ml-dtypes, absl-py, rich, packaging, sentencepiece, sacrebleu,
# pyyaml, matplotlib and scipy, but not Keras and the rest of what it and this package need:
# keras, namex, optree, num2words and docopt. This script downloads their wheels here into
# build/gpu/wheels (build/ is git-ignored; docopt has no wheel on PyPI, so pip builds its pure-Python
# one here), one version of each, and copies the corpus beside them, since the ../shared folder
# beside the checkout does not travel. Then carry `build/gpu` and run there:
#
#   python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site build/gpu/wheels/*.whl \
#     && export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 \
#     && python3 benchmarks/gpu.py --data build/gpu/fra-eng.txt --out $OUT/gpu.json
#
# Usage: benchmarks/gpu_wheels.sh [folder]   (PYTHON_VERSION=3.12 by default; PYTHON=... picks the pip to use)
set -euo pipefail
cd "$(dirname "$0")/.."

folder=${1:-build/gpu}
python_version=${PYTHON_VERSION:-3.12}
python=${PYTHON:-$([ -x .venv/bin/python ] && echo .venv/bin/python || echo python3)}
corpus=${CORPUS:-../shared/data/tatoeba/fra-eng.txt}
# Keras as the tests here run it, and what it and num2words need beyond that image.
binary=(keras==3.15.1 namex==0.1.0 optree==0.20.0 num2words==0.5.14)
source_only=(docopt==0.6.2)

mkdir -p "$folder/wheels"
rm -f "$folder"/wheels/*.whl  # two versions of one package would stop the install there
"$python" -m pip download -q --no-deps --only-binary=:all: --dest "$folder/wheels" \
  --python-version "$python_version" --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 --platform manylinux1_x86_64 \
  "${binary[@]}"
"$python" -m pip wheel -q --no-deps --wheel-dir "$folder/wheels" "${source_only[@]}"
if [ -f "$corpus" ]; then
  install -m 0644 "$corpus" "$folder/fra-eng.txt"
else
  echo "note: no corpus at $corpus; pass --data to benchmarks/gpu.py there" >&2
fi
ls -l "$folder" "$folder/wheels"
du -sh "$folder"
