#!/usr/bin/env bash
# Installs the Debian packages csvavro needs to build and test, when run as root and something
# is missing. Runs `apt-get update` at most once. Prints what it installs.
set -euo pipefail
PKGS=(
  python3-dev python3-numpy python3-pandas python3-dask python3-distributed python3-fsspec
  python3-tqdm python3-setuptools python3-pip python3-venv python3-wheel
  build-essential cmake pkg-config clang clang-format libclang-rt-14-dev
  libjansson-dev libzstd-dev libdeflate-dev liblzma-dev libbz2-dev zlib1g-dev libzip-dev libsnappy-dev
  libprotobuf-c-dev protobuf-c-compiler libopenmpi-dev openmpi-bin
  python3 python3-avro python3-snappy python3-zstandard avro-bin hdfs-cli
  libkrb5-dev libssl-dev libsasl2-dev libsasl2-modules krb5-kdc krb5-admin-server krb5-user
  faketime zip zstd xz-utils bzip2 gzip
)
missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "csvavro: missing packages (run as root to install): ${missing[*]}" >&2
  exit 0
fi
echo "csvavro: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
