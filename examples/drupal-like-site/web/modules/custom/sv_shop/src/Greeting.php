<?php

namespace Drupal\sv_shop;

/**
 * A greeting for a visitor's name, trimmed and bounded; the caller escapes it for HTML.
 */
final class Greeting
{
    public const MAX_NAME = 64;

    public function forName(?string $name): string
    {
        $n = trim((string) $name);
        if ($n === '') {
            return 'Hello, stranger!';
        }
        if (mb_strlen($n) > self::MAX_NAME) {
            $n = mb_substr($n, 0, self::MAX_NAME) . '…';
        }
        return sprintf('Hello, %s!', $n);
    }
}
