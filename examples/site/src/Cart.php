<?php

declare(strict_types=1);

namespace Example;

/**
 * A shopping cart: items with a unit price in cents and a quantity.
 */
class Cart
{
    /** @var array<string, array{price: int, qty: int}> */
    private array $items = [];

    public function add(string $sku, int $price, int $qty = 1): void
    {
        if ($qty <= 0) {
            throw new \InvalidArgumentException('quantity must be positive');
        }
        if (isset($this->items[$sku])) {
            $this->items[$sku]['qty'] += $qty;
        } else {
            $this->items[$sku] = ['price' => $price, 'qty' => $qty];
        }
    }

    public function count(): int
    {
        $n = 0;
        foreach ($this->items as $item) {
            $n += $item['qty'];
        }
        return $n;
    }

    /**
     * Total in cents, with a bulk discount.
     */
    public function total(): int
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
}
