<?php

declare(strict_types=1);

require __DIR__ . '/../tests/bootstrap.php';

use Example\Cart;
use Example\Greeter;

$cart = new Cart();
$cart->add('apple', 50, 3);
$cart->add('pear', 80, 5);
header('Content-Type: text/html; charset=utf-8');
$name = isset($_GET['name']) ? (string) $_GET['name'] : '';
$greeting = (new Greeter())->greet($name);
?>
<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>stagevisor example</title></head>
<body>
<h1 id="greeting"><?= htmlspecialchars($greeting) ?></h1>
<p id="cart">Items: <?= $cart->count() ?>, total: <?= number_format($cart->total() / 100, 2) ?></p>
</body>
</html>
