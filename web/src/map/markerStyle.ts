// What a marker looks like, and its sprite. No Leaflet and no DOM globals here: the drawing worker imports it.

export type Shape = 'circle' | 'square' | 'diamond' | 'triangle' | 'ring' | 'hexagon' | 'roundrect';

export interface MarkerStyle {
  shape: Shape;
  fill: string;
  stroke: string;
  /** Radius in CSS pixels. */
  size: number;
  lineWidth: number;
  /** Draw order: higher is on top, and wins a click where markers overlap. */
  z: number;
  /** A dot of this colour in the centre, e.g. to show a unit is busy. */
  dot?: string;
  alpha?: number;
}

/** A 2D context of a page canvas (the fallback) or of an OffscreenCanvas (the worker): the drawing is the same. */
export type Ctx2D = CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;
export type AnyCanvas = HTMLCanvasElement | OffscreenCanvas;

export interface Sprite {
  dpr: number;
  canvas: AnyCanvas;
  /** Half the sprite's side in device pixels: its centre is the marker's point. */
  half: number;
}

export function styleKey(s: MarkerStyle): string {
  return `${s.z}|${s.shape}|${s.fill}|${s.stroke}|${s.size}|${s.lineWidth}|${s.dot ?? ''}|${s.alpha ?? 1}`;
}

/** The marker drawn once at this device pixel ratio; every marker of the style is then a copy of it. */
export function renderSprite(s: MarkerStyle, dpr: number, makeCanvas: (width: number, height: number) => AnyCanvas): Sprite {
  // Room for the widest shape (1.2 r), the stroke and a pixel of anti-aliasing, in device pixels.
  const half = Math.ceil((s.size * 1.25 + s.lineWidth + 1) * dpr);
  const canvas = makeCanvas(2 * half, 2 * half);
  const ctx = canvas.getContext('2d') as Ctx2D;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  const c = half / dpr;
  ctx.beginPath();
  tracePath(ctx, s.shape, c, c, s.size);
  ctx.fillStyle = s.fill;
  if (s.shape !== 'ring') ctx.fill();
  if (s.lineWidth > 0) {
    ctx.lineWidth = s.lineWidth;
    ctx.strokeStyle = s.stroke;
    ctx.stroke();
  }
  if (s.dot) {
    ctx.beginPath();
    const dr = Math.max(1.5, s.size * 0.38);
    ctx.arc(c, c, dr, 0, Math.PI * 2);
    ctx.fillStyle = s.dot;
    ctx.fill();
  }
  return { dpr, canvas, half };
}

function tracePath(ctx: Ctx2D, shape: Shape, x: number, y: number, r: number): void {
  switch (shape) {
    case 'circle':
    case 'ring':
      ctx.moveTo(x + r, y);
      ctx.arc(x, y, r, 0, Math.PI * 2);
      break;
    case 'square':
      ctx.rect(x - r * 0.85, y - r * 0.85, r * 1.7, r * 1.7);
      break;
    case 'roundrect': {
      const w = r * 1.7;
      const h = r * 1.25;
      ctx.roundRect(x - w / 2 - r * 0.1, y - h / 2 - r * 0.2, w + r * 0.2, h + r * 0.4, r * 0.35);
      break;
    }
    case 'diamond':
      ctx.moveTo(x, y - r * 1.15);
      ctx.lineTo(x + r * 1.15, y);
      ctx.lineTo(x, y + r * 1.15);
      ctx.lineTo(x - r * 1.15, y);
      ctx.closePath();
      break;
    case 'triangle':
      ctx.moveTo(x, y - r * 1.2);
      ctx.lineTo(x + r * 1.1, y + r * 0.8);
      ctx.lineTo(x - r * 1.1, y + r * 0.8);
      ctx.closePath();
      break;
    case 'hexagon':
      for (let i = 0; i < 6; i++) {
        const a = (Math.PI / 3) * i + Math.PI / 6;
        const px = x + r * Math.cos(a);
        const py = y + r * Math.sin(a);
        if (i === 0) ctx.moveTo(px, py);
        else ctx.lineTo(px, py);
      }
      ctx.closePath();
      break;
  }
}
