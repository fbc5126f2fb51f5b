<?php

declare(strict_types=1);

namespace Example;

class Greeter
{
    public function greet(string $name): string
    {
        $name = trim($name);
        if ($name === '') {
            return 'Hello, world!';
        }
        return 'Hello, ' . $name . '!';
    }
}
