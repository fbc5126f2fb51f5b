<?php

namespace Drupal\sv_shop\Controller;

use Drupal\sv_shop\Greeting;
use Drupal\sv_shop\PriceCalculator;
use Drupal\sv_shop\SiteConfig;

/**
 * The site's pages: the front page (a heading, a greeting form and a price form), the greeting
 * and the price result. Returns status and HTML; index.php sends them.
 */
class ShopController
{
    private SiteConfig $config;

    public function __construct(SiteConfig $config)
    {
        $this->config = $config;
    }

    /**
     * @param array<string, mixed> $query
     * @return array{status: int, body: string}
     */
    public function handle(string $path, array $query, string $sapi): array
    {
        switch ($path) {
            case '/':
            case '/index.php':
                return $this->page(200, $this->frontPage(), $sapi);
            case '/greet':
                $text = (new Greeting())->forName(is_string($query['name'] ?? null) ? $query['name'] : null);
                return $this->page(200, '<p id="greeting">' . $this->escape($text) . '</p>', $sapi);
            case '/price':
                return $this->price($query, $sapi);
            default:
                return $this->page(404, '<p id="error">Page not found: ' . $this->escape($path) . '</p>', $sapi);
        }
    }

    /**
     * @param array<string, mixed> $query
     * @return array{status: int, body: string}
     */
    private function price(array $query, string $sapi): array
    {
        $calc = PriceCalculator::fromConfig($this->config);
        $unit = filter_var($query['unit'] ?? '', FILTER_VALIDATE_INT);
        $qty = filter_var($query['qty'] ?? '', FILTER_VALIDATE_INT);
        if ($unit === false || $qty === false || $unit < 0 || $qty < 0) {
            return $this->page(400, '<p id="error">unit and qty must be whole numbers, 0 or more</p>', $sapi);
        }
        $currency = (string) $this->config->get('sv_shop.settings', 'currency', 'EUR');
        $gross = PriceCalculator::format($calc->gross($unit, $qty), $currency);
        return $this->page(200, '<p id="total">Total: ' . $this->escape($gross) . '</p>', $sapi);
    }

    private function frontPage(): string
    {
        $name = (string) $this->config->get('system.site', 'name', 'Drupal-like site');
        return '<h1 id="title">Welcome to ' . $this->escape($name) . '</h1>'
            . '<form id="greet" action="/greet" method="get"><label>Your name <input name="name" id="name"></label>'
            . '<button type="submit" id="greet-submit">Greet me</button></form>'
            . '<form id="price" action="/price" method="get"><input name="unit" id="unit"><input name="qty" id="qty">'
            . '<button type="submit" id="price-submit">Price</button></form>';
    }

    /**
     * @return array{status: int, body: string}
     */
    private function page(int $status, string $content, string $sapi): array
    {
        $site = $this->escape((string) $this->config->get('system.site', 'name', 'Drupal-like site'));
        $body = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" . $site . '</title></head><body>'
            . '<main>' . $content . '</main>'
            . '<footer id="footer" data-sapi="' . $this->escape($sapi) . '">' . $site . '</footer></body></html>';
        return ['status' => $status, 'body' => $body];
    }

    private function escape(string $s): string
    {
        return htmlspecialchars($s, ENT_QUOTES | ENT_HTML5, 'UTF-8');
    }
}
