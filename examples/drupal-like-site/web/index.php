<?php

/**
 * @file
 * The front controller: every request of the site comes through here, as in Drupal.
 */

use Drupal\sv_shop\Controller\ShopController;
use Drupal\sv_shop\SiteConfig;

require __DIR__ . '/autoload.php';

$config = SiteConfig::load(dirname(__DIR__));
$controller = new ShopController($config);
$path = (string) parse_url($_SERVER['REQUEST_URI'] ?? '/', PHP_URL_PATH);
$response = $controller->handle($path, $_GET, PHP_SAPI);

http_response_code($response['status']);
header('Content-Type: text/html; charset=utf-8');
echo $response['body'];
