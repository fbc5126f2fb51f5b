<?php

// PHPUnit's bootstrap: the site's own class loader (web/autoload.php: Composer's when
// vendor/ exists, else composer.json's PSR-4 maps).
require dirname(__DIR__) . '/web/autoload.php';
