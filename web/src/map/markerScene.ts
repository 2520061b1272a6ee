import { renderSprite, type AnyCanvas, type Ctx2D, type MarkerStyle, type Sprite } from './markerStyle.ts';

/**
 * Where the canvas is, in the numbers the drawing needs. Positions travel as world pixels at zoom 0
 * (Leaflet's `project(latlng, 0)`); at the view's zoom a marker is at `p0 × scale − (ox, oy)` on the canvas,
 * so the drawing side needs no CRS and a pan or zoom resends only this.
 */
export interface SceneView {
  id: number;
  /** CSS pixels. */
  width: number;
  height: number;
  dpr: number;
  /** `crs.scale(zoom) / crs.scale(0)`. */
  scale: number;
  /** World pixels at the view's zoom of the canvas's top-left corner. */
  ox: number;
  oy: number;
  labels: boolean;
}

export interface SceneLink {
  ax: number;
  ay: number;
  bx: number;
  by: number;
  color: string;
}

/**
 * Changes since the last batch. Markers are numbered slots so that their numbers can go in typed arrays
 * (transferred to the worker, not copied): `slots[i]` now has style `styles[i]` (−1: gone), zoom-0 position
 * `xy[2i], xy[2i+1]` and label `labels[i]`.
 */
export interface SceneBatch {
  /** Numbers the batches, so that a frame can tell which changes it shows. */
  seq: number;
  /** Forget every marker first (a full resend). */
  reset?: boolean;
  addStyles?: { id: number; style: MarkerStyle }[];
  dropStyles?: number[];
  slots?: Int32Array;
  styles?: Int32Array;
  xy?: Float64Array;
  labels?: (string | null)[];
  /** Slots ringed as selected, replacing the previous ones. */
  highlight?: Int32Array;
  links?: SceneLink[];
  view?: SceneView;
}

/**
 * What a drawing side reports back: the view it drew for, the last batch it shows, how long the draw took, how many
 * markers it held, and whether it repainted everything, only changed squares, or nothing (no change was visible).
 */
export interface DrawnFrame {
  viewId: number;
  seq: number;
  ms: number;
  markers: number;
  drawn: 'whole' | 'part' | null;
  bitmap?: ImageBitmap;
}

interface StyleSlot {
  style: MarkerStyle;
  sprite?: Sprite;
}

/** Dirty areas beyond this many are redrawn as a whole canvas: one pass is then cheaper than many clips. */
const MAX_DIRTY = 256;

/**
 * Every marker as the drawing side keeps it, and its drawing. The same code runs in the worker (into an
 * OffscreenCanvas) and on the main thread when there is no worker to run it. The canvas keeps its pixels between
 * draws, so when only some markers changed, only the squares they left and entered are cleared and redrawn
 * (with everything else that touches them, in the same order): at 100 updates a second over 12k markers that
 * is a few hundred blits per draw, not 12k.
 */
export class MarkerScene {
  view: SceneView | null = null;
  /** Changed since the last draw. */
  changed = false;
  /** The last batch applied. */
  seq = 0;
  count = 0;
  private styleDefs = new Map<number, StyleSlot>();
  private styleOf = new Int32Array(0);
  private xy = new Float64Array(0);
  private labels: (string | null)[] = [];
  private highlight: Int32Array = new Int32Array(0);
  private links: SceneLink[] = [];
  private order = new Int32Array(0);
  /** The next draw must repaint everything (new view, links, rings or a reset). */
  private whole = true;
  /** Squares to repaint: zoom-0 centre and half-side in CSS pixels, three numbers each. */
  private dirty: number[] = [];

  constructor(private readonly makeCanvas: (width: number, height: number) => AnyCanvas) {}

  apply(b: SceneBatch): void {
    this.changed = true;
    this.seq = b.seq;
    if (b.reset) {
      this.styleDefs.clear();
      this.styleOf.fill(-1);
      this.labels = [];
      this.count = 0;
      this.whole = true;
    }
    for (const { id, style } of b.addStyles ?? []) this.styleDefs.set(id, { style });
    if (b.slots && b.styles && b.xy) {
      const labels = b.labels ?? [];
      for (let i = 0; i < b.slots.length; i++) {
        const slot = b.slots[i]!;
        this.ensure(slot + 1);
        const was = this.styleOf[slot]!;
        const now = b.styles[i]!;
        if (was >= 0) this.markDirty(slot, was);
        this.count += (now >= 0 ? 1 : 0) - (was >= 0 ? 1 : 0);
        this.styleOf[slot] = now;
        this.xy[2 * slot] = b.xy[2 * i]!;
        this.xy[2 * slot + 1] = b.xy[2 * i + 1]!;
        this.labels[slot] = labels[i] ?? null;
        if (now >= 0) this.markDirty(slot, now);
      }
    }
    // After the slots: a style dropped in this batch may still be what a slot's old square is measured by.
    for (const id of b.dropStyles ?? []) this.styleDefs.delete(id);
    if (b.highlight) this.highlight = b.highlight;
    if (b.links) this.links = b.links;
    if (b.view) this.view = b.view;
    if (b.highlight || b.links || b.view) this.whole = true;
  }

  private markDirty(slot: number, styleId: number): void {
    if (this.whole || this.dirty.length >= 3 * MAX_DIRTY) return;
    const s = this.styleDefs.get(styleId)!.style;
    // The sprite's reach, or a selection ring's (size + 6, 3 px wide) where that is larger, and a pixel of rounding.
    const reach = Math.max(s.size * 1.25 + s.lineWidth + 1, s.size + 8) + 1;
    this.dirty.push(this.xy[2 * slot]!, this.xy[2 * slot + 1]!, reach);
  }

  private ensure(capacity: number): void {
    if (capacity <= this.styleOf.length) return;
    const size = Math.max(capacity, 2 * this.styleOf.length, 1024);
    const styleOf = new Int32Array(size).fill(-1);
    styleOf.set(this.styleOf);
    const xy = new Float64Array(2 * size);
    xy.set(this.xy);
    this.styleOf = styleOf;
    this.xy = xy;
  }

  /** Slots of live markers, lowest z first and by slot within a z: the order a click's hit-test assumes too. */
  private sortByZ(): number {
    // A counting sort over the few z levels: linear, where a comparison sort of 12k slots is not.
    const levels = [...new Set(Array.from(this.styleDefs.values(), (d) => d.style.z))].sort((a, b) => a - b);
    const levelOf = new Map<number, number>();
    for (const [id, d] of this.styleDefs) levelOf.set(id, levels.indexOf(d.style.z));
    const next = new Int32Array(levels.length + 1);
    const styleOf = this.styleOf;
    for (let slot = 0; slot < styleOf.length; slot++) {
      const id = styleOf[slot]!;
      if (id < 0) continue;
      const l = levelOf.get(id)! + 1;
      next[l] = next[l]! + 1;
    }
    for (let l = 1; l < next.length; l++) next[l] = next[l]! + next[l - 1]!;
    if (this.order.length < this.count) this.order = new Int32Array(styleOf.length);
    for (let slot = 0; slot < styleOf.length; slot++) {
      const id = styleOf[slot]!;
      if (id < 0) continue;
      const l = levelOf.get(id)!;
      this.order[next[l]!] = slot;
      next[l] = next[l]! + 1;
    }
    return this.count;
  }

  private spriteOf(def: StyleSlot, dpr: number): Sprite {
    if (def.sprite?.dpr !== dpr) def.sprite = renderSprite(def.style, dpr, this.makeCanvas);
    return def.sprite;
  }

  /**
   * Brings the canvas up to date: the whole of it, or only the dirty squares. Returns which, or null when nothing
   * visible changed (every change was off the canvas), so there is no new frame to show.
   */
  draw(ctx: Ctx2D): 'whole' | 'part' | null {
    const v = this.view;
    if (!v) return null;
    const { dpr, width, height } = v;
    const canvas = ctx.canvas;
    const w = Math.round(width * dpr);
    const h = Math.round(height * dpr);
    // A map with no size (hidden, not laid out yet) shows nothing, and a canvas of no size cannot be copied.
    if (!w || !h) {
      this.changed = false;
      this.whole = true;
      this.dirty = [];
      return null;
    }
    // Resizing clears the canvas; labels reach an unmeasured width to the right, so they are redrawn whole.
    const whole = this.whole || canvas.width !== w || canvas.height !== h || v.labels || this.dirty.length >= 3 * MAX_DIRTY;
    const rects = whole ? null : this.dirtyRects(v, w, h);
    this.changed = false;
    this.whole = false;
    this.dirty = [];
    if (rects && !rects.length) return null;
    if (canvas.width !== w || canvas.height !== h) {
      canvas.width = w;
      canvas.height = h;
    }
    ctx.save();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    if (rects) {
      // Whole device pixels, so nothing is blended at a clip edge and the result equals a whole redraw.
      ctx.beginPath();
      for (let i = 0; i < rects.length; i += 4) ctx.rect(rects[i]!, rects[i + 1]!, rects[i + 2]! - rects[i]!, rects[i + 3]! - rects[i + 1]!);
      ctx.clip();
    }
    ctx.clearRect(0, 0, w, h);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    this.drawLinks(ctx, v);
    const labelled = this.drawMarkers(ctx, v, rects);
    this.drawHighlight(ctx, v);
    // Labels only when few enough to read: at city scale they would be a smear.
    if (labelled.length && labelled.length < 400) {
      ctx.font = '600 11px system-ui, "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", sans-serif';
      ctx.textBaseline = 'middle';
      ctx.lineWidth = 3;
      ctx.strokeStyle = 'rgba(255,255,255,0.9)';
      ctx.fillStyle = '#0b2239';
      for (const l of labelled) {
        ctx.strokeText(l.text, l.x + l.r + 3, l.y);
        ctx.fillText(l.text, l.x + l.r + 3, l.y);
      }
    }
    ctx.restore();
    return rects ? 'part' : 'whole';
  }

  /** The dirty squares in device pixels (left, top, right, bottom), cut to the canvas; those wholly off it dropped. */
  private dirtyRects(v: SceneView, w: number, h: number): number[] {
    const rects: number[] = [];
    const d = this.dirty;
    for (let i = 0; i < d.length; i += 3) {
      const x = d[i]! * v.scale - v.ox;
      const y = d[i + 1]! * v.scale - v.oy;
      const reach = d[i + 2]!;
      const l = Math.max(0, Math.floor((x - reach) * v.dpr));
      const t = Math.max(0, Math.floor((y - reach) * v.dpr));
      const r = Math.min(w, Math.ceil((x + reach) * v.dpr));
      const b = Math.min(h, Math.ceil((y + reach) * v.dpr));
      if (l < r && t < b) rects.push(l, t, r, b);
    }
    return rects;
  }

  /** Each marker is a copy of its style's sprite; with `rects`, only those whose sprite touches one of them. */
  private drawMarkers(ctx: Ctx2D, v: SceneView, rects: number[] | null): { x: number; y: number; text: string; r: number }[] {
    const { dpr, scale, ox, oy, width, height } = v;
    const labelled: { x: number; y: number; text: string; r: number }[] = [];
    const n = this.sortByZ();
    // In device pixels at whole-pixel offsets, so each copy is a plain blit with no resampling. Without a GPU,
    // Chromium copies thousands of small bitmaps far faster than it rasterises as many paths.
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    let current = -1;
    let sprite: Sprite | undefined;
    let r = 0;
    for (let i = 0; i < n; i++) {
      const slot = this.order[i]!;
      const id = this.styleOf[slot]!;
      if (id !== current) {
        const def = this.styleDefs.get(id)!;
        sprite = this.spriteOf(def, dpr);
        ctx.globalAlpha = def.style.alpha ?? 1;
        r = def.style.size;
        current = id;
      }
      const x = this.xy[2 * slot]! * scale - ox;
      const y = this.xy[2 * slot + 1]! * scale - oy;
      if (x < -r || y < -r || x > width + r || y > height + r) continue;
      const left = Math.round(x * dpr) - sprite!.half;
      const top = Math.round(y * dpr) - sprite!.half;
      if (rects && !touches(rects, left, top, left + 2 * sprite!.half, top + 2 * sprite!.half)) continue;
      ctx.drawImage(sprite!.canvas, left, top);
      const label = this.labels[slot];
      if (v.labels && label) labelled.push({ x, y, text: label, r });
    }
    ctx.globalAlpha = 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    return labelled;
  }

  private drawHighlight(ctx: Ctx2D, v: SceneView): void {
    if (!this.highlight.length) return;
    ctx.beginPath();
    for (const slot of this.highlight) {
      const id = this.styleOf[slot] ?? -1;
      if (id < 0) continue;
      const x = this.xy[2 * slot]! * v.scale - v.ox;
      const y = this.xy[2 * slot + 1]! * v.scale - v.oy;
      const rr = this.styleDefs.get(id)!.style.size + 6;
      ctx.moveTo(x + rr, y);
      ctx.arc(x, y, rr, 0, Math.PI * 2);
    }
    ctx.lineWidth = 3;
    ctx.strokeStyle = '#00e5ff';
    ctx.stroke();
    ctx.lineWidth = 1;
    ctx.strokeStyle = '#002b36';
    ctx.stroke();
  }

  private drawLinks(ctx: Ctx2D, v: SceneView): void {
    if (!this.links.length) return;
    ctx.save();
    ctx.setLineDash([6, 5]);
    ctx.lineWidth = 2;
    for (const link of this.links) {
      ctx.strokeStyle = link.color;
      ctx.beginPath();
      ctx.moveTo(link.ax * v.scale - v.ox, link.ay * v.scale - v.oy);
      ctx.lineTo(link.bx * v.scale - v.ox, link.by * v.scale - v.oy);
      ctx.stroke();
    }
    ctx.restore();
  }
}

function touches(rects: number[], left: number, top: number, right: number, bottom: number): boolean {
  for (let i = 0; i < rects.length; i += 4) {
    if (left < rects[i + 2]! && right > rects[i]! && top < rects[i + 3]! && bottom > rects[i + 1]!) return true;
  }
  return false;
}
