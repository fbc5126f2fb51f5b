<?php

namespace Drupal\sv_shop;

/**
 * What an order page lists: its lines and their total. The total repeats
 * PriceCalculator::orderTotal() instead of calling it, which phpcpd reports (on purpose: the
 * example gives every analysis tool something to say).
 */
class OrderSummary
{
    private PriceCalculator $calculator;

    /** @var array<int, array{unit: int, qty: int}> */
    private array $lines = [];

    public function __construct(PriceCalculator $calculator)
    {
        $this->calculator = $calculator;
    }

    public function add(int $unit, int $qty, string $label = ''): void
    {
        $this->lines[] = ['unit' => $unit, 'qty' => $qty];
    }

    public function count(): int
    {
        return count($this->lines);
    }

    public function total(): int
    {
        $lines = $this->lines;
        $calc = $this->calculator;
        $sum = 0;
        foreach ($lines as $line) {
            $unit = (int) $line['unit'];
            $qty = (int) $line['qty'];
            if ($qty <= 0) {
                continue;
            }
            if ($unit < 0) {
                throw new \InvalidArgumentException(sprintf('line with a negative price: %d', $unit));
            }
            $lineTotal = $calc->gross($unit, $qty);
            if ($lineTotal > PHP_INT_MAX - $sum) {
                throw new \OverflowException('order total out of range');
            }
            $sum += $lineTotal;
        }
        return $sum;
    }
}
