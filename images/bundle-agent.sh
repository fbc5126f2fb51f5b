#!/bin/sh
# Run in the images' build stage: installs stagevisor-agent and stagevisor-agent-uplink.so
# (built in $1) into $2/bin, and copies every shared library they need, except the C
# library's own, into $2/bin/lib, which the binaries' DT_RPATH ($ORIGIN/lib, set at link
# time) names. So the agent layer runs on any glibc-based image (glibc >= the build stage's),
# whatever libevent, jansson, expat or OpenSSL that image has or lacks, and without
# LD_LIBRARY_PATH, which would leak into the stage's processes.
set -eu
build=$1 prefix=$2
cmake --install "$build" --component agent --prefix "$prefix" >/dev/null
mkdir -p "$prefix/bin/lib"
for bin in "$prefix/bin/stagevisor-agent" "$prefix/bin/stagevisor-agent-uplink.so"; do
  ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }'
done | sort -u | while read -r lib; do
  case "${lib##*/}" in
    libc.so.*|libm.so.*|libdl.so.*|libpthread.so.*|librt.so.*|ld-linux*|libresolv.so.*) ;;
    *) cp -L "$lib" "$prefix/bin/lib/" ;;
  esac
done
strip --strip-unneeded "$prefix/bin/stagevisor-agent" "$prefix/bin/stagevisor-agent-uplink.so"
"$prefix/bin/stagevisor-agent" --version
ls -l "$prefix/bin" "$prefix/bin/lib"
