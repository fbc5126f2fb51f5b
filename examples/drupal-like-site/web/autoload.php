<?php

/**
 * @file
 * The class loader, as Drupal's web/autoload.php: Composer's when `composer install` has run,
 * else a PSR-4 loader built from composer.json's own "autoload" and "autoload-dev" maps (this
 * example has no dependency to download, and no registry is reachable where it is tested).
 */

$root = dirname(__DIR__);
if (is_file($root . '/vendor/autoload.php')) {
    return require $root . '/vendor/autoload.php';
}

$composer = json_decode((string) file_get_contents($root . '/composer.json'), true, 32, JSON_THROW_ON_ERROR);
$map = [];
foreach (['autoload', 'autoload-dev'] as $section) {
    foreach ($composer[$section]['psr-4'] ?? [] as $prefix => $dir) {
        $map[$prefix] = $root . '/' . rtrim($dir, '/') . '/';
    }
}
spl_autoload_register(static function (string $class) use ($map): void {
    foreach ($map as $prefix => $dir) {
        if (strncmp($class, $prefix, strlen($prefix)) === 0) {
            $file = $dir . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
            if (is_file($file)) {
                require $file;
            }
            return;
        }
    }
});
return null;
