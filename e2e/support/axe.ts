/**
 * Accessibility checks with axe-core: every rule of every impact, at a wide
 * and a phone-sized window, in the light and the dark theme.
 */
import AxeBuilder from '@axe-core/playwright';
import { expect, type Page } from '@playwright/test';

/** The window sizes every screen is checked at. */
export const VIEWPORTS = [
  { width: 1280, height: 800 },
  { width: 360, height: 740 },
] as const;
/** Both colour themes the app follows (`prefers-color-scheme`). */
export const SCHEMES = ['light', 'dark'] as const;

/**
 * Runs axe on `page` in each size and theme and fails with the rules and
 * elements found (any impact: minor ones too). Leaves the page at 1280 px,
 * light. With `shots`, also saves a screenshot of each to that path prefix.
 */
export async function expectNoAxeViolations(page: Page, screen: string, shots?: string): Promise<void> {
  const found: string[] = [];
  for (const viewport of VIEWPORTS) {
    for (const scheme of SCHEMES) {
      await page.setViewportSize(viewport);
      await page.emulateMedia({ colorScheme: scheme });
      if (shots !== undefined) await page.screenshot({ path: `${shots}-${screen}-${viewport.width}-${scheme}.png`, fullPage: true });
      const result = await new AxeBuilder({ page }).analyze();
      for (const v of result.violations) {
        found.push(`${screen} @${viewport.width}px ${scheme}: ${v.id} (${v.impact ?? 'no impact'}) at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
      }
    }
  }
  await page.setViewportSize(VIEWPORTS[0]);
  await page.emulateMedia({ colorScheme: 'light' });
  expect(found).toEqual([]);
}
