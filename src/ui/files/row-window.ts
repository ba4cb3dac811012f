/**
 * Which rows of a long list to render (issue 16): a list of thousands of
 * files renders only the rows near the viewport, with spacers for the rest,
 * so it stays responsive while a large drive fills in.
 */

/** Lists with more rows than this are virtualised; shorter ones render whole. */
export const VIRTUALISE_FROM = 400;
/** Rows rendered beyond each edge of the viewport (keyboard focus and fast scrolls land on real rows). */
export const OVERSCAN = 30;

/** The rows to render: `start` inclusive, `end` exclusive. */
export interface RowWindow {
  start: number;
  end: number;
}

/**
 * Returns the rows that cover the viewport plus {@link OVERSCAN} on each
 * side. `listTop` is the list's top edge relative to the viewport's top
 * (negative once scrolled past); `rowHeight` must be positive.
 */
export function rowWindow(opts: { total: number; rowHeight: number; listTop: number; viewportHeight: number; overscan?: number }): RowWindow {
  const over = opts.overscan ?? OVERSCAN;
  const h = Math.max(1, opts.rowHeight);
  const first = Math.floor(Math.max(0, -opts.listTop) / h);
  const last = Math.ceil(Math.max(0, opts.viewportHeight - opts.listTop) / h);
  const start = Math.min(opts.total, Math.max(0, first - over));
  const end = Math.min(opts.total, Math.max(start, last + over));
  return { start, end };
}
