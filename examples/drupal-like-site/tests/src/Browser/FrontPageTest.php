<?php

namespace SvDemo\Tests\Browser;

use PHPUnit\Framework\TestCase;
use SvDemo\Tests\WebDriver\Client;

/**
 * The site in a real browser: headless Chromium driven through WebDriver, against the site as
 * Apache + mod_php serve it. One browser session for the whole class (starting Chromium is the
 * slow part). Set SV_SITE_URL (the site, e.g. http://127.0.0.1:8089) and SV_WEBDRIVER_URL (e.g.
 * http://127.0.0.1:9515); SV_CHROME_BIN optionally names the browser binary.
 */
final class FrontPageTest extends TestCase
{
    private static ?Client $browser = null;
    private static string $site = '';

    public static function setUpBeforeClass(): void
    {
        self::$site = rtrim((string) getenv('SV_SITE_URL'), '/');
        $driver = (string) getenv('SV_WEBDRIVER_URL');
        if (self::$site === '' || $driver === '') {
            self::fail('SV_SITE_URL and SV_WEBDRIVER_URL must be set (stages/tests.json sets them)');
        }
        $bin = getenv('SV_CHROME_BIN');
        self::$browser = new Client($driver, $bin === false ? null : $bin);
    }

    public static function tearDownAfterClass(): void
    {
        if (self::$browser !== null) {
            self::$browser->quit();
            self::$browser = null;
        }
    }

    public function testFrontPageHeading(): void
    {
        $b = self::$browser;
        $b->navigate(self::$site . '/');
        $heading = $b->text($b->find('h1#title'));
        $this->assertSame('Welcome to Stagevisor Demo Shop', $heading, sprintf('the front page heading is "%s"', $heading));
        $this->assertSame('Stagevisor Demo Shop', $b->title());
        // Served through Apache's mod_php, not PHP's built-in server or the CLI.
        $this->assertSame('apache2handler', $b->attribute($b->find('#footer'), 'data-sapi'));
    }

    public function testGreetingFormSubmit(): void
    {
        $b = self::$browser;
        $b->navigate(self::$site . '/');
        $b->type($b->find('input#name'), 'Ada <Lovelace>');
        $b->click($b->find('#greet-submit'));
        $this->assertSame('Hello, Ada <Lovelace>!', $b->text($b->find('p#greeting')));
        $this->assertStringStartsWith(self::$site . '/greet?name=Ada', $b->currentUrl());
    }

    public function testPriceFormSubmit(): void
    {
        $b = self::$browser;
        $b->navigate(self::$site . '/');
        $b->type($b->find('input#unit'), '1000');
        $b->type($b->find('input#qty'), '12');
        $b->click($b->find('#price-submit'));
        $this->assertSame('Total: EUR 129.60', $b->text($b->find('p#total')));
    }
}
