<?php

namespace SvDemo\Tests\WebDriver;

/** A WebDriver command that failed: the endpoint's error code and message, or the transport's. */
final class WebDriverException extends \RuntimeException
{
}
