<?php

namespace SvDemo\Tests\WebDriver;

/**
 * A small W3C WebDriver client over php-curl: what the browser tests need of the protocol
 * (https://www.w3.org/TR/webdriver2/), nothing more. It talks to any WebDriver endpoint
 * (chromedriver here; a Selenium node speaks the same protocol). One instance is one browser
 * session; quit() ends it (the destructor does too, so a failed test leaves no browser).
 */
final class Client
{
    private const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

    private string $base;
    private ?string $session = null;
    private ?string $profile = null;

    /**
     * Starts a session of headless Chromium with a fresh profile directory.
     *
     * @param string $endpoint e.g. http://127.0.0.1:9515
     * @param string|null $binary the browser binary (null: the endpoint's default)
     */
    public function __construct(string $endpoint, ?string $binary = null, int $implicitWaitMs = 10000)
    {
        $this->base = rtrim($endpoint, '/');
        $this->profile = sys_get_temp_dir() . '/sv-chromium-' . bin2hex(random_bytes(6));
        if (!mkdir($this->profile, 0700)) {
            throw new WebDriverException('cannot create the profile directory ' . $this->profile);
        }
        $options = [
            'args' => [
                // Root in a container: no sandbox; no GPU, no /dev/shm reliance; nothing that
                // calls home (tests send nothing beyond loopback).
                '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
                '--disable-background-networking', '--disable-component-update', '--disable-sync',
                '--no-first-run', '--disable-quic', '--user-data-dir=' . $this->profile,
                '--window-size=1024,768',
            ],
        ];
        if ($binary !== null && $binary !== '') {
            $options['binary'] = $binary;
        }
        $caps = ['capabilities' => ['alwaysMatch' => ['browserName' => 'chrome', 'goog:chromeOptions' => $options]]];
        $value = $this->call('POST', '/session', $caps);
        $this->session = (string) $value['sessionId'];
        $this->call('POST', $this->path('/timeouts'), ['implicit' => $implicitWaitMs, 'pageLoad' => 30000]);
    }

    public function __destruct()
    {
        $this->quit();
    }

    public function quit(): void
    {
        if ($this->session !== null) {
            $path = $this->path('');
            $this->session = null;
            try {
                $this->call('DELETE', $path);
            } catch (WebDriverException $e) {
                // The browser is gone already; nothing is left to close.
            }
        }
        if ($this->profile !== null && is_dir($this->profile)) {
            $this->removeTree($this->profile);
            $this->profile = null;
        }
    }

    public function navigate(string $url): void
    {
        $this->call('POST', $this->path('/url'), ['url' => $url]);
    }

    public function title(): string
    {
        return (string) $this->call('GET', $this->path('/title'));
    }

    public function currentUrl(): string
    {
        return (string) $this->call('GET', $this->path('/url'));
    }

    /** The id of the first element matching a CSS selector (waits up to the implicit wait). */
    public function find(string $css): string
    {
        $value = $this->call('POST', $this->path('/element'), ['using' => 'css selector', 'value' => $css]);
        return (string) $value[self::ELEMENT];
    }

    public function text(string $element): string
    {
        return (string) $this->call('GET', $this->path('/element/' . $element . '/text'));
    }

    public function attribute(string $element, string $name): ?string
    {
        $v = $this->call('GET', $this->path('/element/' . $element . '/attribute/' . rawurlencode($name)));
        return $v === null ? null : (string) $v;
    }

    public function type(string $element, string $text): void
    {
        $this->call('POST', $this->path('/element/' . $element . '/value'), ['text' => $text]);
    }

    public function click(string $element): void
    {
        $this->call('POST', $this->path('/element/' . $element . '/click'), new \stdClass());
    }

    private function path(string $rest): string
    {
        if ($this->session === null) {
            throw new WebDriverException('no WebDriver session');
        }
        return '/session/' . rawurlencode($this->session) . $rest;
    }

    /**
     * One WebDriver command: returns the response's "value"; a WebDriver error (or a transport
     * error) is an exception with the endpoint's own error code and message.
     *
     * @param mixed $body
     * @return mixed
     */
    private function call(string $method, string $path, $body = null)
    {
        $curl = curl_init($this->base . $path);
        $headers = ['Accept: application/json'];
        $opts = [CURLOPT_CUSTOMREQUEST => $method, CURLOPT_RETURNTRANSFER => true, CURLOPT_TIMEOUT => 60,
                 CURLOPT_CONNECTTIMEOUT => 10, CURLOPT_PROXY => ''];
        if ($body !== null) {
            $opts[CURLOPT_POSTFIELDS] = json_encode($body, JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES);
            $headers[] = 'Content-Type: application/json; charset=utf-8';
        }
        $opts[CURLOPT_HTTPHEADER] = $headers;
        curl_setopt_array($curl, $opts);
        $raw = curl_exec($curl);
        $status = (int) curl_getinfo($curl, CURLINFO_RESPONSE_CODE);
        $error = curl_error($curl);
        curl_close($curl);
        if ($raw === false) {
            throw new WebDriverException(sprintf('%s %s: %s', $method, $path, $error));
        }
        $doc = json_decode((string) $raw, true);
        if (!is_array($doc) || !array_key_exists('value', $doc)) {
            throw new WebDriverException(sprintf('%s %s: HTTP %d, not a WebDriver answer: %.200s', $method, $path, $status, $raw));
        }
        if ($status >= 400 || (is_array($doc['value']) && isset($doc['value']['error']))) {
            $v = is_array($doc['value']) ? $doc['value'] : [];
            throw new WebDriverException(sprintf('%s %s: %s: %s', $method, $path, $v['error'] ?? ('HTTP ' . $status),
                strtok((string) ($v['message'] ?? ''), "\n")));
        }
        return $doc['value'];
    }

    private function removeTree(string $dir): void
    {
        $it = new \RecursiveIteratorIterator(new \RecursiveDirectoryIterator($dir, \FilesystemIterator::SKIP_DOTS),
            \RecursiveIteratorIterator::CHILD_FIRST);
        foreach ($it as $f) {
            if ($f->isDir() && !$f->isLink()) {
                @rmdir($f->getPathname());
            } else {
                @unlink($f->getPathname());
            }
        }
        @rmdir($dir);
    }
}
