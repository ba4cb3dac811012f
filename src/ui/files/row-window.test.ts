import { describe, expect, it } from 'vitest';
import { rowWindow } from './row-window.ts';

describe('rowWindow', () => {
  it('renders the first screen and the overscan when the list starts in view', () => {
    expect(rowWindow({ total: 10_000, rowHeight: 40, listTop: 200, viewportHeight: 800, overscan: 5 })).toEqual({ start: 0, end: 20 });
  });

  it('follows the scroll: rows under the viewport, plus overscan on both sides', () => {
    // Scrolled 4000 px past the list's top: row 100 is at the viewport's top.
    expect(rowWindow({ total: 10_000, rowHeight: 40, listTop: -4000, viewportHeight: 800, overscan: 5 })).toEqual({ start: 95, end: 125 });
  });

  it('stays inside the list at its end and for a list shorter than the window', () => {
    expect(rowWindow({ total: 100, rowHeight: 40, listTop: -3900, viewportHeight: 800, overscan: 5 })).toEqual({ start: 92, end: 100 });
    expect(rowWindow({ total: 3, rowHeight: 40, listTop: 0, viewportHeight: 800 })).toEqual({ start: 0, end: 3 });
    expect(rowWindow({ total: 0, rowHeight: 40, listTop: 0, viewportHeight: 800 })).toEqual({ start: 0, end: 0 });
  });

  it('never divides by a zero row height', () => {
    expect(rowWindow({ total: 50, rowHeight: 0, listTop: 0, viewportHeight: 10, overscan: 0 })).toEqual({ start: 0, end: 10 });
  });
});
