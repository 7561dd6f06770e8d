#!/usr/bin/env bash
# Recalibrate scenarios/syria_2016.yaml with the default settings and replace the shipped posterior
# (scenarios/syria_2016.posterior.parquet) with the new one; the full outputs stay in
# reports/syria_2016_calibration/. docs/CALIBRATION.md gives the figures this produced.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-.venv/bin/python}"
"$python" cli.py calibrate scenarios/syria_2016.yaml --out reports/syria_2016_calibration --force "$@"
cp reports/syria_2016_calibration/posterior.parquet scenarios/syria_2016.posterior.parquet.tmp
mv scenarios/syria_2016.posterior.parquet.tmp scenarios/syria_2016.posterior.parquet
echo "shipped: scenarios/syria_2016.posterior.parquet"
