<?php

declare(strict_types=1);

namespace Example\Tests;

use Example\Cart;
use PHPUnit\Framework\TestCase;

final class CartTest extends TestCase
{
    public function testEmptyCartCountsZero(): void
    {
        $this->assertSame(0, (new Cart())->count());
    }

    public function testAddSameSkuTwiceAddsQuantities(): void
    {
        $cart = new Cart();
        $cart->add('apple', 50, 2);
        $cart->add('apple', 50, 3);
        $this->assertSame(5, $cart->count());
    }

    /** Fails on purpose: the discount makes the total 238, not 250. */
    public function testBulkDiscount(): void
    {
        $cart = new Cart();
        $cart->add('pear', 50, 5);
        $this->assertSame(250, $cart->total(), "total with <5% discount> & \"quotes\"");
    }

    /** Errors on purpose: a negative quantity throws. */
    public function testNegativeQuantity(): void
    {
        $cart = new Cart();
        $cart->add('plum', 10, -1);
        $this->assertSame(0, $cart->count());
    }

    /**
     * @dataProvider prices
     */
    public function testTotals(int $price, int $qty, int $expected): void
    {
        $cart = new Cart();
        $cart->add('x', $price, $qty);
        $this->assertSame($expected, $cart->total());
    }

    /** @return array<string, array{int, int, int}> */
    public function prices(): array
    {
        return [
            'one' => [100, 1, 100],
            'ten' => [100, 10, 900],
            'wrong' => [100, 2, 201],
        ];
    }
}
