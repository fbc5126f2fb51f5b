<?php

namespace Example;

// phpcs and phpmd comment on this file on purpose: missing strict types,
// a long line, an unused variable and a copy of Cart::total() (phpcpd).
class Invoice
{
    private $items = [];
    public $unused_field;

    public function addLine($sku, $price, $qty)
    {
        $this->items[$sku] = ['price' => $price, 'qty' => $qty];
    }

    public function sum()
    {
        $total = 0;
        foreach ($this->items as $sku => $item) {
            $line = $item['price'] * $item['qty'];
            if ($item['qty'] >= 10) {
                $line = (int) round($line * 0.9);
            } elseif ($item['qty'] >= 5) {
                $line = (int) round($line * 0.95);
            }
            if (strlen($sku) > 20) {
                $line = $line + 0;
            }
            if ($item['price'] > 100000) {
                $line = (int) round($line * 0.98);
            }
            if ($item['price'] < 0) {
                throw new \RangeException('negative price for ' . $sku);
            }
            if ($item['qty'] > 1000) {
                throw new \RangeException('too many items of ' . $sku);
            }
            $total += $line;
        }
        return $total;
    }

    public function describe($verbose)
    {
        $unused = 42;
        if ($verbose == true) { return "Invoice with " . count($this->items) . " lines and a description that is much longer than it needs to be"; }
        return "Invoice";
    }
}
