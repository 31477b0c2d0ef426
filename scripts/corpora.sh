#!/usr/bin/env bash
# The real corpora of config/real.yaml, written by others and installed offline from Debian,
# linked into DEST (the study's corpora/ folder; `make corpora` uses studies/real/corpora):
#   DEST/python-doc     the Python documentation as HTML (python3-doc), English prose
#   DEST/python-stdlib  the Python standard library's sources (libpython3.X-minimal/-stdlib)
#   DEST/linux-headers  the Linux kernel's user-space C headers (linux-libc-dev)
# Each is a symbolic link to where Debian installs it, so the corpus is exactly the package's
# files; every dataset's manifest records each file's sha256. Missing packages are installed with
# apt-get (root needed); where that cannot be done the script says what to install and exits 1.
# Usage: bash scripts/corpora.sh [DEST]   (DEST defaults to corpora/)
set -euo pipefail

dest="${1:-corpora}"
python="$(readlink -f /usr/bin/python3 2>/dev/null || true)"
version="$(basename "${python:-python3.11}")"            # e.g. python3.11
declare -A packages=(
  [python-doc]="python3-doc"
  [python-stdlib]="lib${version}-stdlib"
  [linux-headers]="linux-libc-dev"
)
declare -A targets=(
  [python-doc]="/usr/share/doc/python3/html"
  [python-stdlib]="/usr/lib/${version}"
  [linux-headers]="/usr/include/linux"
)

missing=()
for name in "${!packages[@]}"; do
  dpkg -s "${packages[$name]}" >/dev/null 2>&1 || missing+=("${packages[$name]}")
done
if ((${#missing[@]})); then
  echo "corpora: installing ${missing[*]} with apt-get"
  if ! { apt-get install -y "${missing[@]}" || { apt-get update && apt-get install -y "${missing[@]}"; }; }; then
    echo "corpora: could not install ${missing[*]} (needs Debian or Ubuntu, apt and root)." >&2
    echo "corpora: install them yourself, or point the sources in config/real.yaml at local" >&2
    echo "corpora: copies: Python HTML docs, a Python standard library, C headers." >&2
    exit 1
  fi
fi

mkdir -p "$dest"
for name in python-doc python-stdlib linux-headers; do
  target="${targets[$name]}"
  if [[ ! -d "$target" ]]; then
    echo "corpora: $target is missing although ${packages[$name]} is installed" >&2
    exit 1
  fi
  ln -sfn "$target" "$dest/$name"
  echo "corpora: $dest/$name -> $target ($(find -L "$dest/$name/" -type f | wc -l) files)"
done
