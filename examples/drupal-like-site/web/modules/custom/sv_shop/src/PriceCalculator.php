<?php

namespace Drupal\sv_shop;

/**
 * Line totals with a bulk discount and VAT, in cents so that no float rounding leaks into
 * what a customer pays.
 */
class PriceCalculator
{
    private float $vatRate;
    private int $bulkThreshold;
    private float $bulkDiscount;

    public function __construct(float $vatRate = 0.2, int $bulkThreshold = 10, float $bulkDiscount = 0.1)
    {
        if ($vatRate < 0 || $bulkDiscount < 0 || $bulkDiscount >= 1) {
            throw new \InvalidArgumentException('rates must be in [0, 1)');
        }
        $this->vatRate = $vatRate;
        $this->bulkThreshold = $bulkThreshold;
        $this->bulkDiscount = $bulkDiscount;
    }

    public static function fromConfig(SiteConfig $config): self
    {
        return new self(
            (float) $config->get('sv_shop.settings', 'vat_rate', 0.2),
            (int) $config->get('sv_shop.settings', 'bulk_threshold', 10),
            (float) $config->get('sv_shop.settings', 'bulk_discount', 0.1)
        );
    }

    /**
     * The net total of $quantity items at $unitCents each, in cents.
     */
    public function net(int $unitCents, int $quantity): int
    {
        if ($quantity < 0 || $unitCents < 0) {
            throw new \InvalidArgumentException('quantity and price must not be negative');
        }
        $total = $unitCents * $quantity;
        if ($quantity >= $this->bulkThreshold) {
            $total = (int) round($total * (1 - $this->bulkDiscount));
        }
        return $total;
    }

    /**
     * The gross total (VAT included), in cents.
     */
    public function gross(int $unitCents, int $quantity): int
    {
        return (int) round($this->net($unitCents, $quantity) * (1 + $this->vatRate));
    }

    /**
     * A line's gross total with its per-item price, as an order summary shows it.
     *
     * @param array<int, array{unit: int, qty: int}> $lines
     */
    public function orderTotal(array $lines): int
    {
        $calc = $this;
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

    public static function format(int $cents, string $currency = 'EUR'): string
    {
        return sprintf('%s %d.%02d', $currency, intdiv($cents, 100), $cents % 100);
    }
}
