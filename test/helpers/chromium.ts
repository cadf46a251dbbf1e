import * as fs from "node:fs";
import { chromium } from "playwright-core";

/** Debian's Chromium, if installed (scripts/ensure-system-tools.sh). */
export function chromiumPath(): string | undefined {
  return ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => fs.existsSync(p));
}

export interface RenderedReport {
  readonly rows: number;
  readonly columns: number;
  readonly failCells: number;
  readonly charts: number;
  readonly bars: number;
  readonly assumptions: number;
  /** Rendered width of the first chart, px: an SVG that failed to lay out has none. */
  readonly chartWidth: number;
}

/** Opens a report in headless Chromium (no network), takes a screenshot, counts what rendered. */
export async function renderInChromium(executablePath: string, htmlFile: string, screenshot: string): Promise<RenderedReport> {
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`file://${htmlFile}`);
    await page.screenshot({ path: screenshot, fullPage: true });
    return {
      rows: await page.locator("table.outcomes tbody tr").count(),
      columns: await page.locator("table.outcomes thead th").count(),
      failCells: await page.locator('td[data-verdict="fail"]').count(),
      charts: await page.locator("svg.chart").count(),
      bars: await page.locator("svg.chart rect.bar").count(),
      assumptions: await page.locator("ul.assumptions li").count(),
      chartWidth: (await page.locator("svg.chart").first().boundingBox())?.width ?? 0,
    };
  } finally {
    await browser.close();
  }
}
