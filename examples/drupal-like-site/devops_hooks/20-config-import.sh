#!/bin/sh
# Stand-in for `drush config:import`: validates every exported object of config/sync/ and
# writes them as the site's active configuration (var/config/active.json, which the site
# reads). Invalid JSON stops the import, and the build with it.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$root/var/config"
php -r '
$root = $argv[1];
$active = [];
foreach (glob($root . "/config/sync/*.json") as $file) {
    $name = basename($file, ".json");
    try {
        $active[$name] = json_decode(file_get_contents($file), true, 64, JSON_THROW_ON_ERROR);
    } catch (JsonException $e) {
        fwrite(STDERR, "config import: $name: " . $e->getMessage() . "\n");
        exit(1);
    }
    echo "imported $name\n";
}
$tmp = $root . "/var/config/active.json.tmp";
file_put_contents($tmp, json_encode($active, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES) . "\n");
rename($tmp, $root . "/var/config/active.json");
echo count($active) . " configuration objects imported\n";
' "$root"
