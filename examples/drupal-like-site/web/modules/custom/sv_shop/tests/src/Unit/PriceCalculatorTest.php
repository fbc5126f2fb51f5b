<?php

namespace Drupal\Tests\sv_shop\Unit;

use Drupal\sv_shop\OrderSummary;
use Drupal\sv_shop\PriceCalculator;
use Drupal\sv_shop\SiteConfig;
use PHPUnit\Framework\TestCase;

/**
 * @coversDefaultClass \Drupal\sv_shop\PriceCalculator
 */
final class PriceCalculatorTest extends TestCase
{
    /**
     * @dataProvider netCases
     */
    public function testNet(int $unit, int $qty, int $expected): void
    {
        $this->assertSame($expected, (new PriceCalculator())->net($unit, $qty));
    }

    /**
     * @return array<string, array{int, int, int}>
     */
    public function netCases(): array
    {
        return [
            'nothing' => [1000, 0, 0],
            'one' => [1000, 1, 1000],
            'below bulk' => [250, 9, 2250],
            'bulk' => [1000, 10, 9000],
        ];
    }

    public function testGrossAddsVat(): void
    {
        // SV_DEMO_FAIL=1 makes this test expect a wrong total: the switch that turns the
        // example pipeline red (README.md).
        $expected = getenv('SV_DEMO_FAIL') === '1' ? 12000 : 12960;
        $this->assertSame($expected, (new PriceCalculator())->gross(1000, 12), 'gross total of 12 x EUR 10.00');
    }

    public function testNegativeQuantityIsRejected(): void
    {
        $this->expectException(\InvalidArgumentException::class);
        (new PriceCalculator())->net(100, -1);
    }

    public function testSettingsComeFromConfig(): void
    {
        $config = new SiteConfig(['sv_shop.settings' => ['vat_rate' => 0.0, 'bulk_threshold' => 2, 'bulk_discount' => 0.5]]);
        $this->assertSame(1000, PriceCalculator::fromConfig($config)->gross(1000, 2));
    }

    public function testFormat(): void
    {
        $this->assertSame('EUR 129.60', PriceCalculator::format(12960));
        $this->assertSame('CHF 0.05', PriceCalculator::format(5, 'CHF'));
    }

    public function testOrderSummaryAgreesWithCalculator(): void
    {
        $calc = new PriceCalculator();
        $summary = new OrderSummary($calc);
        $summary->add(1000, 12);
        $summary->add(250, 0);
        $summary->add(199, 3);
        $this->assertSame(3, $summary->count());
        $lines = [['unit' => 1000, 'qty' => 12], ['unit' => 250, 'qty' => 0], ['unit' => 199, 'qty' => 3]];
        $this->assertSame($calc->orderTotal($lines), $summary->total());
        $this->assertSame(12960 + 716, $summary->total());
    }
}
