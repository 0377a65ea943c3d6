/** Column widths (px) and row heights of the experiments table. */
export const W = { select: 34, star: 30, state: 210, action: 70, epoch: 60, started: 110, res: 104, links: 120, flag: 110 };
export const ROW_HEIGHT = 37;
export const GROUP_HEIGHT = 42;
/** A group with its own flag columns has a second line naming them. */
export const GROUP_HEIGHT_COLUMNS = 66;
export const DRAG_TYPE = 'application/x-skydeck-experiments';

/** Where the sticky columns start: select, star, the name, then the pinned flags. */
export function stickyLefts(nameWidth: number, pinned: number) {
  const name = W.select + W.star;
  const flags = Array.from({ length: pinned }, (_, i) => name + nameWidth + i * W.flag);
  return { select: 0, star: W.select, name, flags, end: name + nameWidth + pinned * W.flag };
}

/** The width of the columns after the sticky ones, before the flags. */
export function fixedWidth(links: boolean): number {
  return W.state + W.action + W.epoch + W.started + W.res + (links ? W.links : 0);
}
