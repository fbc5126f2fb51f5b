#!/bin/sh
# Stand-in for `drush cache:rebuild`: empties the site's cache directory and leaves a marker
# saying when it was cleared.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cache="$root/var/cache"
removed=0
if [ -d "$cache" ]; then
  removed=$(find "$cache" -mindepth 1 -maxdepth 1 | wc -l)
  find "$cache" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
fi
mkdir -p "$cache"
date -u +%Y-%m-%dT%H:%M:%SZ > "$cache/cleared"
echo "cache cleared ($removed entries removed)"
