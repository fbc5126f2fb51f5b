<?php

declare(strict_types=1);

namespace Example\Tests;

use Example\Greeter;
use PHPUnit\Framework\TestCase;

final class GreeterTest extends TestCase
{
    public function testGreetsByName(): void
    {
        $this->assertSame('Hello, Ada!', (new Greeter())->greet(' Ada '));
    }

    public function testGreetsTheWorld(): void
    {
        $this->assertSame('Hello, world!', (new Greeter())->greet(''));
    }

    public function testNeedsIntl(): void
    {
        $this->markTestSkipped('skipped on purpose: needs a translation catalogue');
    }

    public function testNotWrittenYet(): void
    {
        $this->markTestIncomplete('incomplete on purpose');
    }
}
