#!/bin/sh
# Stand-in for `drush updatedb`: applies the custom modules' pending updates
# (web/modules/custom/*/updates/NNNN.sql) in number order to the "database"
# (var/db/applied.sql) and records the schema version per module (var/db/<module>.version),
# so that a second run applies nothing.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
db="$root/var/db"
mkdir -p "$db"
applied=0
for dir in "$root"/web/modules/custom/*/updates; do
  [ -d "$dir" ] || continue
  module=$(basename "$(dirname "$dir")")
  current=$(cat "$db/$module.version" 2>/dev/null || echo 0)
  for file in $(ls "$dir" | LC_ALL=C sort); do
    n=${file%.sql}
    [ "$n" -gt "$current" ] || continue
    cat "$dir/$file" >> "$db/applied.sql"
    echo "$n" > "$db/$module.version"
    echo "$module: applied update $n"
    applied=$((applied + 1))
  done
done
echo "$applied updates applied"
