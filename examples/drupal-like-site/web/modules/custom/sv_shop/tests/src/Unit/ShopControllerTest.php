<?php

namespace Drupal\Tests\sv_shop\Unit;

use Drupal\sv_shop\Controller\ShopController;
use Drupal\sv_shop\Greeting;
use Drupal\sv_shop\SiteConfig;
use PHPUnit\Framework\TestCase;

/**
 * @coversDefaultClass \Drupal\sv_shop\Controller\ShopController
 */
final class ShopControllerTest extends TestCase
{
    private ShopController $controller;

    protected function setUp(): void
    {
        $this->controller = new ShopController(new SiteConfig(['system.site' => ['name' => 'Test <Shop>']]));
    }

    public function testFrontPageHasEscapedSiteName(): void
    {
        $page = $this->controller->handle('/', [], 'cli');
        $this->assertSame(200, $page['status']);
        $this->assertStringContainsString('<h1 id="title">Welcome to Test &lt;Shop&gt;</h1>', $page['body']);
    }

    public function testGreetingIsEscaped(): void
    {
        $page = $this->controller->handle('/greet', ['name' => '<b>Ada</b>'], 'cli');
        $this->assertStringContainsString('<p id="greeting">Hello, &lt;b&gt;Ada&lt;/b&gt;!</p>', $page['body']);
    }

    public function testPriceRejectsBadInput(): void
    {
        $this->assertSame(400, $this->controller->handle('/price', ['unit' => 'x', 'qty' => '1'], 'cli')['status']);
        $this->assertSame(400, $this->controller->handle('/price', ['unit' => '1', 'qty' => '-2'], 'cli')['status']);
    }

    public function testUnknownPathIs404(): void
    {
        $this->assertSame(404, $this->controller->handle('/nope', [], 'cli')['status']);
    }

    public function testGreetingOfEmptyAndLongNames(): void
    {
        $greeting = new Greeting();
        $this->assertSame('Hello, stranger!', $greeting->forName('  '));
        $this->assertSame('Hello, stranger!', $greeting->forName(null));
        $long = $greeting->forName(str_repeat('é', 100));
        $this->assertSame('Hello, ' . str_repeat('é', Greeting::MAX_NAME) . '…!', $long);
    }
}
