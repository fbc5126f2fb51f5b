#!/bin/sh
# Run in the images' final stage: installs, with apt-get, only what the base image lacks, so
# one Dockerfile serves both its public default base (php:8.2-apache, jakzal/phpqa: the tools
# are there already, in their own places) and a plain Debian one (debian:bookworm-slim, a
# debootstrap'd base: the tools come from Debian's packages).
#   install-missing.sh CHECK=PACKAGE[,PACKAGE...] ...
# CHECK is a command looked up in PATH, or an absolute path (a glob allowed) that must exist.
set -eu
need=""
for rule in "$@"; do
  check=${rule%%=*}
  pkgs=$(echo "${rule#*=}" | tr ',' ' ')
  case "$check" in
    /*) for f in $check; do [ -e "$f" ] && continue 2; done ;;
    *) command -v "$check" >/dev/null 2>&1 && continue ;;
  esac
  echo "install-missing: no $check in the base image: installing $pkgs"
  need="$need $pkgs"
done
[ -n "$need" ] || { echo "install-missing: the base image has everything"; exit 0; }
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-missing: the base image lacks$need and has no apt-get (a Debian-based base is needed)" >&2
  exit 1
fi
apt-get update -qq
# --force-unsafe-io: no fsync per file; a failed build is thrown away anyway.
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  -o Dpkg::Options::=--force-unsafe-io $need >/dev/null
# Debian's packages may start their daemons' init scripts; nothing runs in a build.
rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb
