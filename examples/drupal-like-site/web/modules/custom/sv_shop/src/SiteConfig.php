<?php

namespace Drupal\sv_shop;

/**
 * The site's configuration: the active copy that the config-import hook writes
 * (var/config/active.json), else the exported files of config/sync/.
 */
final class SiteConfig
{
    /** @var array<string, array<string, mixed>> */
    private array $objects;

    /**
     * @param array<string, array<string, mixed>> $objects
     */
    public function __construct(array $objects)
    {
        $this->objects = $objects;
    }

    public static function load(string $root): self
    {
        $active = $root . '/var/config/active.json';
        if (is_file($active)) {
            return new self(json_decode((string) file_get_contents($active), true, 64, JSON_THROW_ON_ERROR));
        }
        $objects = [];
        foreach (glob($root . '/config/sync/*.json') ?: [] as $file) {
            $objects[basename($file, '.json')] = json_decode((string) file_get_contents($file), true, 64, JSON_THROW_ON_ERROR);
        }
        return new self($objects);
    }

    public function get(string $object, string $key, mixed $default = null): mixed
    {
        return $this->objects[$object][$key] ?? $default;
    }
}
