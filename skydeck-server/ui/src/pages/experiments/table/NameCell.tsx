import { memo } from 'react';
import { fitMiddle } from '../../../lib/table';

let canvas: CanvasRenderingContext2D | null | undefined;
const cache = new Map<string, string>();

/** The text's width in the name column's font (14px, weight 500), measured on a canvas. */
function measure(text: string): number {
  if (canvas === undefined) {
    canvas = typeof document === 'undefined' ? null : document.createElement('canvas').getContext('2d');
    if (canvas) canvas.font = '500 14px system-ui, sans-serif';
  }
  return canvas ? canvas.measureText(text).width : text.length * 8;
}

/** What fits of `name` in `width` px, shortened in the middle (cached: rows scroll by by the thousand). */
export function fittedName(name: string, width: number): string {
  const key = `${width}\u0000${name}`;
  let out = cache.get(key);
  if (out === undefined) {
    if (cache.size > 20_000) cache.clear();
    out = fitMiddle(name, width, measure);
    cache.set(key, out);
  }
  return out;
}

/** An experiment's name, cut in the middle to fit; the full name (and description) on hover. */
export const NameCell = memo(function NameCell({ name, description, width, left }: {
  name: string; description: string | null; width: number; left: number;
}) {
  const shown = fittedName(name, width - 14);
  return (
    <div className="cell name sticky" style={{ width, left }} title={description ? `${name}\n${description}` : name}
      data-testid="exp-name" data-full={name}>{shown}</div>
  );
});
