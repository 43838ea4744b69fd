#!/usr/bin/env bash
# The Python side of `synapse-g mine --engine spark` (idempotent): a virtual environment at
# .venv-spark with pyspark (Spark 4.0), numpy and pyarrow from PyPI. Spark also needs Java 17 or
# 21 on PATH or in JAVA_HOME; as root on Debian this script installs Java 17 when it is missing.
# SYNAPSE_G_SPARK_VENV puts the venv elsewhere (the engine reads the same variable).
set -eu
cd "$(dirname "$0")/.."
venv=${SYNAPSE_G_SPARK_VENV:-.venv-spark}
py=${PYTHON:-python3}
if ! command -v java >/dev/null && [ -z "${JAVA_HOME:-}" ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless
  else
    echo "setup-spark: java not found; install Java 17 (e.g. apt-get install openjdk-17-jre-headless)" >&2
    exit 1
  fi
fi
if [ ! -x "$venv/bin/python" ]; then
  "$py" -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import pyspark, numpy, pyarrow' 2>/dev/null; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check 'pyspark>=3.5,<4.1' 'numpy>=1.26' 'pyarrow>=14'
fi
"$venv/bin/python" -c 'import pyspark, numpy, pyarrow; print(f"spark ready: pyspark {pyspark.__version__}, numpy {numpy.__version__}, pyarrow {pyarrow.__version__} in '"$venv"'")'
