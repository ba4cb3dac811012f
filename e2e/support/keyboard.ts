/**
 * Moving through a page with the keyboard only, as a person without a
 * mouse would: Tab (or Shift+Tab) until the wanted control has focus.
 */
import { expect, type Page } from '@playwright/test';

/** The focused element's accessible name as a person hears it: aria-label, else its label (inputs), else its text. */
export async function focusedName(page: Page): Promise<string> {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (el === null || el === document.body) return '<body>';
    const labelled = el instanceof HTMLInputElement && el.labels !== null && el.labels.length > 0 ? el.labels[0]?.innerText : undefined;
    return (el.getAttribute('aria-label') ?? labelled ?? (el as HTMLElement).innerText ?? el.textContent ?? '').trim();
  });
}

/**
 * Presses Tab (or Shift+Tab with `backwards`) until the focused element's
 * name is `name`, at most `limit` times; fails the test with the names seen
 * when it never gets there.
 */
export async function tabTo(page: Page, name: string, { backwards = false, limit = 40 } = {}): Promise<void> {
  const seen: string[] = [];
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press(backwards ? 'Shift+Tab' : 'Tab');
    const now = await focusedName(page);
    if (now === name) return;
    seen.push(now);
  }
  expect(seen, `Tab never reached “${name}”`).toContain(name);
}
