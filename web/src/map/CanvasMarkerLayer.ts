import * as L from 'leaflet';
import { createMarkerRenderer, type MarkerRenderer } from './markerRenderers.ts';
import type { DrawnFrame, SceneBatch, SceneLink, SceneView } from './markerScene.ts';
import { styleKey, type MarkerStyle } from './markerStyle.ts';

export type { MarkerStyle, Shape } from './markerStyle.ts';

export interface MarkerInput {
  key: string;
  lat: number;
  lng: number;
  style: MarkerStyle;
  /** Text of the hover tooltip. */
  title?: string;
  /** Drawn beside the marker when zoomed in far enough. */
  label?: string;
  /** Anything the owner wants back on click (an id, a kind). */
  data?: unknown;
}

interface Entry extends MarkerInput {
  /** World pixels at zoom 0, projected once per move: the renderer and the hit-test scale them to the zoom. */
  x0: number;
  y0: number;
  /** The marker's number on the drawing side. Never reused (see compact), so a later marker is drawn above an earlier one of the same z. */
  slot: number;
  def: StyleDef;
}

interface StyleDef {
  id: number;
  key: string;
  style: MarkerStyle;
  users: number;
}

type Link = { from: L.LatLngExpression; to: L.LatLngExpression; color: string };

/** A view sent to the renderer, kept until a frame drawn for it is shown: where to put that frame. */
interface PlacedView {
  min: L.Point;
  width: number;
  height: number;
  zoom: number;
  pixelOrigin: L.Point;
  topLeft: L.LatLng;
}

export interface MarkerHit {
  key: string;
  data: unknown;
  latlng: L.LatLng;
}

export interface CanvasMarkerLayerOptions {
  /** Extra canvas around the viewport, as a fraction of its size, so a drag shows markers before moveend redraws. */
  padding?: number;
  pane?: string;
  /** Zoom at and above which labels are drawn. */
  labelZoom?: number;
  onClick?: (hit: MarkerHit | null, ev: L.LeafletMouseEvent) => void;
}

const HIT_SLOP = 4;
const TILE = 256;
/** Deleted slots tolerated before the live ones are renumbered and resent. */
const COMPACT_AFTER = 4096;

/**
 * Every incident and unit drawn into one <canvas>, kept in step with the map like Leaflet's own renderers: the
 * canvas sits in a map pane at the layer point of the viewport's top-left (plus padding), moves with the pane
 * while dragging and scales with CSS during zoom animation. The drawing itself runs in a worker where the browser
 * allows (markerRenderers.ts): a whole redraw costs 40–60 ms at 12k markers without a GPU, and even the partial ones
 * (only the squares of markers that changed, markerScene.ts) are kept off this thread. This thread keeps the markers
 * for hit-testing, sends only what changed, and shows each finished frame. Changes are sent at the end of the task
 * that made them; the worker starts a draw as soon as it is free.
 */
export class CanvasMarkerLayer extends L.Layer {
  private entries = new Map<string, Entry>();
  private styleDefs = new Map<string, StyleDef>();
  private nextStyleId = 0;
  private nextSlot = 0;
  private freedSlots = 0;
  /** Slots changed since the last batch; null for a deleted marker. */
  private pending = new Map<number, Entry | null>();
  private addedStyles: StyleDef[] = [];
  private droppedStyles: number[] = [];
  private highlight = new Set<string>();
  private highlightDirty = false;
  private links: Link[] = [];
  private linksDirty = false;
  private viewDirty = false;
  private flushQueued = false;
  private postedSeq = 0;
  private shownSeq = 0;

  private renderer: MarkerRenderer | null = null;
  private canvas: HTMLCanvasElement | null = null;
  private tooltip: HTMLDivElement | null = null;
  private views = new Map<number, PlacedView>();
  private viewSeq = 0;
  private shownView: PlacedView | null = null;
  /** A zoom animation runs: a frame drawn before it must not replace the CSS-scaled one. */
  private zooming = false;
  /** The canvas is CSS-scaled to the zoom that just ended, so it still lines up until the next frame. */
  private scaledForZoom = false;
  private hovered: string | null = null;
  private readonly opts: Required<Omit<CanvasMarkerLayerOptions, 'onClick'>> & Pick<CanvasMarkerLayerOptions, 'onClick'>;
  /**
   * Count of redraws shown and the time the last one took to draw, exposed for tests and measurements. Each shows
   * every marker as the layer had them when the draw began (caughtUp() says whether that is still so); `wholeDraws`
   * counts those that repainted the whole canvas rather than only the squares that changed.
   */
  draws = 0;
  wholeDraws = 0;
  lastDrawMs = 0;

  constructor(options: CanvasMarkerLayerOptions = {}) {
    super();
    this.opts = { padding: 0.3, pane: 'markerPane', labelZoom: 15, ...options };
  }

  // ---- data -------------------------------------------------------------------------------------

  set(input: MarkerInput): void {
    const existing = this.entries.get(input.key);
    const key = styleKey(input.style);
    if (existing) {
      const moved = existing.lat !== input.lat || existing.lng !== input.lng;
      const restyled = existing.def.key !== key;
      const relabelled = existing.label !== input.label;
      existing.title = input.title;
      existing.label = input.label;
      existing.data = input.data;
      if (moved) {
        existing.lat = input.lat;
        existing.lng = input.lng;
        this.project(existing);
      }
      if (restyled) {
        this.release(existing.def);
        existing.def = this.acquire(key, input.style);
        existing.style = existing.def.style;
      }
      // A new title or data changes nothing drawn (a language switch re-sets every marker).
      if (moved || restyled || relabelled) this.changed(existing);
      return;
    }
    const def = this.acquire(key, input.style);
    const entry: Entry = { ...input, style: def.style, def, slot: this.nextSlot++, x0: 0, y0: 0 };
    this.project(entry);
    this.entries.set(input.key, entry);
    if (this.highlight.has(input.key)) this.highlightDirty = true;
    this.changed(entry);
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.release(entry.def);
    this.entries.delete(key);
    this.pending.set(entry.slot, null);
    this.freedSlots++;
    if (this.highlight.has(key)) this.highlightDirty = true;
    this.queueFlush();
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  keys(): IterableIterator<string> {
    return this.entries.keys();
  }

  get size(): number {
    return this.entries.size;
  }

  /** Replaces the whole set, keeping entries that survive. */
  replaceAll(inputs: Iterable<MarkerInput>): void {
    const keep = new Set<string>();
    for (const m of inputs) {
      keep.add(m.key);
      this.set(m);
    }
    for (const key of [...this.entries.keys()]) if (!keep.has(key)) this.delete(key);
  }

  // Rings and links repaint the whole canvas, and owners hand over equal ones on every store change
  // (the dispatcher's links follow each batch while an incident is open): only a real change counts.
  setHighlight(keys: Iterable<string>): void {
    const next = new Set(keys);
    if (next.size === this.highlight.size && [...next].every((k) => this.highlight.has(k))) return;
    this.highlight = next;
    this.highlightDirty = true;
    this.queueFlush();
  }

  setLinks(links: Link[]): void {
    const same = (a: Link, b: Link) => a.color === b.color && L.latLng(a.from).equals(b.from) && L.latLng(a.to).equals(b.to);
    if (links.length === this.links.length && links.every((l, i) => same(l, this.links[i]!))) return;
    this.links = links;
    this.linksDirty = true;
    this.queueFlush();
  }

  /** Where a marker is on screen now (container pixels), for tests and for anchoring popups. */
  containerPointOf(key: string): { x: number; y: number } | null {
    const e = this.entries.get(key);
    if (!e || !this._map) return null;
    const p = this._map.latLngToContainerPoint([e.lat, e.lng]);
    return { x: p.x, y: p.y };
  }

  styleOf(key: string): MarkerStyle | null {
    return this.entries.get(key)?.style ?? null;
  }

  /** Whether every change handed to the layer is on screen (frames are drawn asynchronously, in a worker). */
  caughtUp(): boolean {
    return !!this.renderer && !this.flushQueued && this.shownSeq === this.postedSeq;
  }

  /** Which thread draws the markers: 'worker', or 'main' where the browser has no OffscreenCanvas for a worker. */
  get drawnOn(): 'worker' | 'main' | null {
    return this.renderer?.kind ?? null;
  }

  private changed(entry: Entry): void {
    this.pending.set(entry.slot, entry);
    this.queueFlush();
  }

  private acquire(key: string, style: MarkerStyle): StyleDef {
    let def = this.styleDefs.get(key);
    if (!def) {
      def = { id: this.nextStyleId++, key, style: { ...style }, users: 0 };
      this.styleDefs.set(key, def);
      this.addedStyles.push(def);
    }
    def.users++;
    return def;
  }

  private release(def: StyleDef): void {
    if (--def.users > 0) return;
    this.styleDefs.delete(def.key);
    this.droppedStyles.push(def.id);
  }

  private project(e: Entry): void {
    const map = this._map;
    // Not on a map yet: onAdd projects every marker with the map's CRS.
    if (!map) return;
    if (map.options.crs === L.CRS.EPSG3857) {
      // Spherical Mercator inline: map.project() allocates two objects per call, which adds up at 12k markers.
      const lat = Math.max(-85.0511287798, Math.min(85.0511287798, e.lat));
      const sin = Math.sin((lat * Math.PI) / 180);
      e.x0 = TILE * (e.lng / 360 + 0.5);
      e.y0 = TILE * (0.5 - (0.25 * Math.log((1 + sin) / (1 - sin))) / Math.PI);
    } else {
      const p = map.project([e.lat, e.lng], 0);
      e.x0 = p.x;
      e.y0 = p.y;
    }
  }

  // ---- what goes to the renderer ----------------------------------------------------------------

  private queueFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    // At the end of this task: a store batch of thousands of set() calls goes over as one message.
    queueMicrotask(() => this.flush());
  }

  private flush(): void {
    this.flushQueued = false;
    const renderer = this.renderer;
    if (!renderer) return;
    if (this.freedSlots > COMPACT_AFTER && this.freedSlots > this.entries.size) return this.compact();
    const batch: SceneBatch = { seq: this.postedSeq + 1 };
    if (this.addedStyles.length) batch.addStyles = this.addedStyles.map((d) => ({ id: d.id, style: d.style }));
    if (this.droppedStyles.length) batch.dropStyles = this.droppedStyles;
    if (this.pending.size) Object.assign(batch, this.encode(this.pending));
    if (this.highlightDirty) batch.highlight = this.highlightSlots();
    if (this.linksDirty) batch.links = this.projectLinks();
    if (this.viewDirty) batch.view = this.placeView();
    this.addedStyles = [];
    this.droppedStyles = [];
    this.pending = new Map();
    this.highlightDirty = this.linksDirty = this.viewDirty = false;
    if (Object.keys(batch).length === 1) return;
    this.postedSeq = batch.seq;
    renderer.post(batch);
  }

  private encode(changes: Map<number, Entry | null>): Pick<SceneBatch, 'slots' | 'styles' | 'xy' | 'labels'> {
    const n = changes.size;
    const slots = new Int32Array(n);
    const styles = new Int32Array(n);
    const xy = new Float64Array(2 * n);
    const labels: (string | null)[] = new Array(n);
    let i = 0;
    for (const [slot, e] of changes) {
      slots[i] = slot;
      styles[i] = e ? e.def.id : -1;
      xy[2 * i] = e?.x0 ?? 0;
      xy[2 * i + 1] = e?.y0 ?? 0;
      labels[i] = e?.label ?? null;
      i++;
    }
    return { slots, styles, xy, labels };
  }

  /** Everything, for a renderer that starts empty. */
  private fullBatch(): SceneBatch {
    const all = new Map<number, Entry>();
    for (const e of this.entries.values()) all.set(e.slot, e);
    const batch: SceneBatch = {
      seq: ++this.postedSeq,
      reset: true,
      addStyles: [...this.styleDefs.values()].map((d) => ({ id: d.id, style: d.style })),
      ...this.encode(all),
      highlight: this.highlightSlots(),
      links: this.projectLinks(),
      view: this.placeView(),
    };
    this.addedStyles = [];
    this.droppedStyles = [];
    this.pending = new Map();
    this.highlightDirty = this.linksDirty = this.viewDirty = false;
    return batch;
  }

  /** Renumbers the live markers in their order once deletions have left more holes than markers. */
  private compact(): void {
    const live = [...this.entries.values()].sort((a, b) => a.slot - b.slot);
    live.forEach((e, i) => (e.slot = i));
    this.nextSlot = live.length;
    this.freedSlots = 0;
    this.renderer?.post(this.fullBatch());
  }

  private highlightSlots(): Int32Array {
    const slots: number[] = [];
    for (const key of this.highlight) {
      const e = this.entries.get(key);
      if (e) slots.push(e.slot);
    }
    return Int32Array.from(slots);
  }

  private projectLinks(): SceneLink[] {
    const map = this._map;
    return this.links.map(({ from, to, color }) => {
      const a = map.project(from, 0);
      const b = map.project(to, 0);
      return { ax: a.x, ay: a.y, bx: b.x, by: b.y, color };
    });
  }

  private placeView(): SceneView {
    const map = this._map;
    const size = map.getSize();
    const pad = this.opts.padding;
    const min = map.containerPointToLayerPoint(size.multiplyBy(-pad)).round();
    const width = Math.round(size.x * (1 + 2 * pad));
    const height = Math.round(size.y * (1 + 2 * pad));
    const zoom = map.getZoom();
    const pixelOrigin = map.getPixelOrigin();
    const id = ++this.viewSeq;
    this.views.set(id, { min, width, height, zoom, pixelOrigin, topLeft: map.layerPointToLatLng(min) });
    const crs = map.options.crs!;
    return {
      id,
      width,
      height,
      dpr: window.devicePixelRatio || 1,
      scale: crs.scale(zoom) / crs.scale(0),
      ox: pixelOrigin.x + min.x,
      oy: pixelOrigin.y + min.y,
      labels: zoom >= this.opts.labelZoom,
    };
  }

  // ---- showing frames ---------------------------------------------------------------------------

  /** A frame lines up with the map if the map's zoom and pixel origin are still those it was drawn for. */
  private accepts(viewId: number): boolean {
    const v = this.views.get(viewId);
    const map = this._map;
    return !!v && !!map && !this.zooming && v.zoom === map.getZoom() && v.pixelOrigin.equals(map.getPixelOrigin());
  }

  private presented(frame: DrawnFrame): void {
    const v = this.views.get(frame.viewId);
    const canvas = this.canvas;
    if (!v || !canvas) return;
    this.shownSeq = frame.seq;
    if (!frame.drawn) return;
    for (const id of this.views.keys()) if (id < frame.viewId) this.views.delete(id);
    canvas.style.width = `${v.width}px`;
    canvas.style.height = `${v.height}px`;
    L.DomUtil.setPosition(canvas, v.min);
    canvas.style.visibility = '';
    this.shownView = v;
    this.scaledForZoom = false;
    this.draws++;
    if (frame.drawn === 'whole') this.wholeDraws++;
    this.lastDrawMs = frame.ms;
    canvas.dataset.markers = String(frame.markers);
    canvas.dataset.draws = String(this.draws);
  }

  private startRenderer(allowWorker: boolean): void {
    const canvas = this.canvas!;
    this.renderer = createMarkerRenderer(
      {
        canvas,
        accepts: (id) => this.accepts(id),
        presented: (frame) => this.presented(frame),
        failed: (reason) => this.fallBack(reason),
      },
      allowWorker,
    );
    canvas.dataset.drawnOn = this.renderer.kind;
    this.renderer.post(this.fullBatch());
  }

  /** The worker could not draw: a fresh canvas (the old one is bound to the worker's bitmaps) drawn on this thread. */
  private fallBack(reason: string): void {
    if (!this.renderer || this.renderer.kind === 'main' || !this.canvas) return;
    console.warn(`map markers: drawing on the main thread (${reason})`);
    this.renderer.dispose();
    const fresh = this.createCanvas();
    this.canvas.replaceWith(fresh);
    this.canvas = fresh;
    this.shownView = null;
    this.startRenderer(false);
  }

  private createCanvas(): HTMLCanvasElement {
    const canvas = L.DomUtil.create('canvas', 'cbd-marker-canvas leaflet-zoom-animated') as HTMLCanvasElement;
    canvas.dataset.testid = 'marker-canvas';
    canvas.style.pointerEvents = 'none';
    canvas.style.visibility = 'hidden';
    return canvas;
  }

  // ---- Leaflet lifecycle ------------------------------------------------------------------------

  override onAdd(map: L.Map): this {
    this.canvas = this.createCanvas();
    map.getPane(this.opts.pane)!.appendChild(this.canvas);
    const tooltip = L.DomUtil.create('div', 'cbd-marker-tooltip') as HTMLDivElement;
    tooltip.style.display = 'none';
    map.getContainer().appendChild(tooltip);
    this.tooltip = tooltip;
    map.on('click', this.handleClick, this);
    map.on('mousemove', this.handleMove, this);
    map.on('mouseout', this.hideTooltip, this);
    for (const e of this.entries.values()) this.project(e);
    this.startRenderer(true);
    return this;
  }

  override onRemove(map: L.Map): this {
    map.off('click', this.handleClick, this);
    map.off('mousemove', this.handleMove, this);
    map.off('mouseout', this.hideTooltip, this);
    this.renderer?.dispose();
    this.renderer = null;
    this.canvas?.remove();
    this.tooltip?.remove();
    map.getContainer().classList.remove('cbd-marker-hover');
    this.canvas = null;
    this.tooltip = null;
    this.views.clear();
    this.shownView = null;
    return this;
  }

  override getEvents(): Record<string, L.LeafletEventHandlerFn> {
    return {
      viewreset: this.reset,
      moveend: this.reset,
      zoomend: this.reset,
      resize: this.reset,
      zoomanim: this.animateZoom as L.LeafletEventHandlerFn,
    };
  }

  private animateZoom(e: L.ZoomAnimEvent): void {
    const map = this._map as L.Map & { _latLngToNewLayerPoint?: (ll: L.LatLng, zoom: number, center: L.LatLng) => L.Point };
    const shown = this.shownView;
    if (!this.canvas || !shown) return;
    this.zooming = true;
    // Leaflet's private helper is the only way to know where the top-left lands before the zoom ends;
    // without it the markers hide until the first frame at the new zoom instead.
    if (typeof map._latLngToNewLayerPoint !== 'function') {
      this.canvas.style.visibility = 'hidden';
      return;
    }
    const scale = map.getZoomScale(e.zoom, shown.zoom);
    const offset = map._latLngToNewLayerPoint(shown.topLeft, e.zoom, e.center);
    L.DomUtil.setTransform(this.canvas, offset, scale);
    this.scaledForZoom = true;
  }

  /**
   * A new view for the renderer. Until its frame arrives the last one stays where it is: after a pan it still
   * lines up (the pane moved it), after an animated zoom its CSS scale lines it up; only a jump that reset the
   * layer's coordinates hides it, rather than show markers in the wrong places.
   */
  private reset(): void {
    const map = this._map;
    this.zooming = false;
    const shown = this.shownView;
    const moved = shown && (shown.zoom !== map.getZoom() || !shown.pixelOrigin.equals(map.getPixelOrigin()));
    if (moved && !this.scaledForZoom && this.canvas) this.canvas.style.visibility = 'hidden';
    this.viewDirty = true;
    this.queueFlush();
  }

  // ---- hit-testing ------------------------------------------------------------------------------

  /**
   * The topmost marker under a container point, or null: highest z, then the latest slot, which is the order the
   * renderer draws in. A linear scan: 12k subtractions take well under a millisecond.
   */
  hitTest(containerPoint: L.Point): Entry | null {
    const map = this._map;
    if (!map) return null;
    const crs = map.options.crs!;
    const k = crs.scale(map.getZoom()) / crs.scale(0);
    const abs = map.containerPointToLayerPoint(containerPoint).add(map.getPixelOrigin());
    let best: Entry | null = null;
    for (const e of this.entries.values()) {
      const r = e.style.size + HIT_SLOP;
      const dx = e.x0 * k - abs.x;
      const dy = e.y0 * k - abs.y;
      if (dx * dx + dy * dy > r * r) continue;
      if (!best || e.style.z > best.style.z || (e.style.z === best.style.z && e.slot > best.slot)) best = e;
    }
    return best;
  }

  private handleClick(ev: L.LeafletMouseEvent): void {
    const hit = this.hitTest(ev.containerPoint);
    this.opts.onClick?.(hit ? { key: hit.key, data: hit.data, latlng: L.latLng(hit.lat, hit.lng) } : null, ev);
  }

  private handleMove(ev: L.LeafletMouseEvent): void {
    const hit = this.hitTest(ev.containerPoint);
    const container = this._map.getContainer();
    container.classList.toggle('cbd-marker-hover', !!hit);
    const tip = this.tooltip;
    if (!tip) return;
    if (!hit || !hit.title) {
      this.hideTooltip();
      return;
    }
    if (this.hovered !== hit.key) {
      tip.textContent = hit.title;
      this.hovered = hit.key;
    }
    tip.style.display = 'block';
    tip.style.left = `${ev.containerPoint.x + 14}px`;
    tip.style.top = `${ev.containerPoint.y + 10}px`;
  }

  private hideTooltip(): void {
    this.hovered = null;
    if (this.tooltip) this.tooltip.style.display = 'none';
  }
}
