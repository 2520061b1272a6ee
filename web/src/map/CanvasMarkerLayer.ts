import * as L from 'leaflet';
import { renderSprite, styleKey, type MarkerStyle, type Sprite } from './markerStyle.ts';

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
  /** Absolute Web-Mercator pixel coordinates at `projZoom`, cached so panning costs no trigonometry. */
  px: number;
  py: number;
  projZoom: number;
  bucket: Bucket;
  seq: number;
}

interface Bucket {
  key: string;
  style: MarkerStyle;
  entries: Set<Entry>;
  /** The marker drawn once at this device pixel ratio; every marker of the bucket is a copy of it. */
  sprite?: Sprite;
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

/**
 * Every incident and unit drawn into one <canvas>, kept in step with the map like Leaflet's own
 * renderers: the canvas sits in a map pane at the layer point of the viewport's top-left (plus
 * padding), moves with the pane while dragging, scales with CSS during zoom animation, and is redrawn
 * from cached projected coordinates after each move. Markers of one style form one path, so ten
 * thousand markers are a few dozen fill() calls. Clicks are hit-tested against the same cache.
 */
export class CanvasMarkerLayer extends L.Layer {
  private entries = new Map<string, Entry>();
  private buckets = new Map<string, Bucket>();
  private sortedBuckets: Bucket[] | null = null;
  private canvas: HTMLCanvasElement | null = null;
  private ctx: CanvasRenderingContext2D | null = null;
  private tooltip: HTMLDivElement | null = null;
  private frame = 0;
  private deferred: ReturnType<typeof setTimeout> | undefined;
  private lastDrawEnd = 0;
  private seq = 0;
  private topLeft: L.LatLng | null = null;
  private drawnZoom = 0;
  private highlight = new Set<string>();
  private links: { from: L.LatLngExpression; to: L.LatLngExpression; color: string }[] = [];
  private hovered: string | null = null;
  private readonly opts: Required<Omit<CanvasMarkerLayerOptions, 'onClick'>> & Pick<CanvasMarkerLayerOptions, 'onClick'>;
  /** Count of full redraws and the time the last one took, exposed for tests and measurements. */
  draws = 0;
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
      if (existing.lat !== input.lat || existing.lng !== input.lng) existing.projZoom = -1;
      existing.lat = input.lat;
      existing.lng = input.lng;
      existing.title = input.title;
      existing.label = input.label;
      existing.data = input.data;
      if (existing.bucket.key !== key) {
        this.leaveBucket(existing);
        existing.bucket = this.bucketFor(key, input.style);
        existing.bucket.entries.add(existing);
      }
      existing.style = existing.bucket.style;
    } else {
      const bucket = this.bucketFor(key, input.style);
      const entry: Entry = { ...input, style: bucket.style, px: 0, py: 0, projZoom: -1, bucket, seq: ++this.seq };
      bucket.entries.add(entry);
      this.entries.set(input.key, entry);
    }
    this.requestRedraw();
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.leaveBucket(entry);
    this.entries.delete(key);
    this.requestRedraw();
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

  /** Replaces the whole set, keeping entries (and their projection cache) that survive. */
  replaceAll(inputs: Iterable<MarkerInput>): void {
    const keep = new Set<string>();
    for (const m of inputs) {
      keep.add(m.key);
      this.set(m);
    }
    for (const key of [...this.entries.keys()]) if (!keep.has(key)) this.delete(key);
    this.requestRedraw();
  }

  setHighlight(keys: Iterable<string>): void {
    this.highlight = new Set(keys);
    this.requestRedraw();
  }

  setLinks(links: { from: L.LatLngExpression; to: L.LatLngExpression; color: string }[]): void {
    this.links = links;
    this.requestRedraw();
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

  private bucketFor(key: string, style: MarkerStyle): Bucket {
    let b = this.buckets.get(key);
    if (!b) {
      b = { key, style: { ...style }, entries: new Set() };
      this.buckets.set(key, b);
      this.sortedBuckets = null;
    }
    return b;
  }

  private leaveBucket(entry: Entry): void {
    const b = entry.bucket;
    b.entries.delete(entry);
    if (b.entries.size === 0) {
      this.buckets.delete(b.key);
      this.sortedBuckets = null;
    }
  }

  // ---- Leaflet lifecycle ------------------------------------------------------------------------

  override onAdd(map: L.Map): this {
    const canvas = L.DomUtil.create('canvas', 'cbd-marker-canvas leaflet-zoom-animated') as HTMLCanvasElement;
    canvas.dataset.testid = 'marker-canvas';
    canvas.style.pointerEvents = 'none';
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
    map.getPane(this.opts.pane)!.appendChild(canvas);
    const tooltip = L.DomUtil.create('div', 'cbd-marker-tooltip') as HTMLDivElement;
    tooltip.style.display = 'none';
    map.getContainer().appendChild(tooltip);
    this.tooltip = tooltip;
    map.on('click', this.handleClick, this);
    map.on('mousemove', this.handleMove, this);
    map.on('mouseout', this.hideTooltip, this);
    this.reset();
    return this;
  }

  override onRemove(map: L.Map): this {
    map.off('click', this.handleClick, this);
    map.off('mousemove', this.handleMove, this);
    map.off('mouseout', this.hideTooltip, this);
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
    clearTimeout(this.deferred);
    this.deferred = undefined;
    this.canvas?.remove();
    this.tooltip?.remove();
    map.getContainer().classList.remove('cbd-marker-hover');
    this.canvas = null;
    this.ctx = null;
    this.tooltip = null;
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
    if (!this.canvas || !this.topLeft) return;
    // Leaflet's private helper is the only way to know where the top-left lands before the zoom ends;
    // without it the markers hide for the quarter second of the animation instead.
    if (typeof map._latLngToNewLayerPoint !== 'function') {
      this.canvas.style.visibility = 'hidden';
      return;
    }
    const scale = map.getZoomScale(e.zoom, this.drawnZoom);
    const offset = map._latLngToNewLayerPoint(this.topLeft, e.zoom, e.center);
    L.DomUtil.setTransform(this.canvas, offset, scale);
  }

  private reset(): void {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
    clearTimeout(this.deferred);
    this.deferred = undefined;
    this.draw();
  }

  /**
   * A redraw for changed data, on the next frame — unless the last full draw was slow: then no sooner than
   * twice its time after it, so that drawing takes at most a third of the main thread and the map stays smooth
   * while a flood of updates arrives (with 12k markers, about 5 redraws a second). Pans and zooms redraw at once.
   */
  requestRedraw(): void {
    if (this.frame || this.deferred || !this._map) return;
    const wait = this.lastDrawEnd + 2 * this.lastDrawMs - performance.now();
    if (this.lastDrawMs > 8 && wait > 0) {
      this.deferred = setTimeout(() => {
        this.deferred = undefined;
        this.requestRedraw();
      }, wait);
      return;
    }
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  // ---- drawing ----------------------------------------------------------------------------------

  private project(e: Entry, zoom: number, crs3857: boolean): void {
    if (crs3857) {
      // Spherical Mercator inline: map.project() allocates two objects per call, which adds up at 12k markers.
      const scale = TILE * Math.pow(2, zoom);
      const lat = Math.max(-85.0511287798, Math.min(85.0511287798, e.lat));
      const sin = Math.sin((lat * Math.PI) / 180);
      e.px = scale * (e.lng / 360 + 0.5);
      e.py = scale * (0.5 - (0.25 * Math.log((1 + sin) / (1 - sin))) / Math.PI);
    } else {
      const p = this._map.project([e.lat, e.lng], zoom);
      e.px = p.x;
      e.py = p.y;
    }
    e.projZoom = zoom;
  }

  private draw(): void {
    const map = this._map;
    const canvas = this.canvas;
    const ctx = this.ctx;
    if (!map || !canvas || !ctx) return;
    const started = performance.now();
    this.draws++;
    const size = map.getSize();
    const pad = this.opts.padding;
    const min = map.containerPointToLayerPoint(size.multiplyBy(-pad)).round();
    const width = Math.round(size.x * (1 + 2 * pad));
    const height = Math.round(size.y * (1 + 2 * pad));
    const dpr = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(height * dpr)) {
      canvas.width = Math.round(width * dpr);
      canvas.height = Math.round(height * dpr);
      canvas.style.width = `${width}px`;
      canvas.style.height = `${height}px`;
    }
    L.DomUtil.setPosition(canvas, min);
    canvas.style.visibility = '';
    const zoom = map.getZoom();
    this.drawnZoom = zoom;
    this.topLeft = map.layerPointToLatLng(min);
    const origin = map.getPixelOrigin();
    const ox = origin.x + min.x;
    const oy = origin.y + min.y;

    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);

    const crs3857 = map.options.crs === L.CRS.EPSG3857;
    if (!this.sortedBuckets) this.sortedBuckets = [...this.buckets.values()].sort((a, b) => a.style.z - b.style.z);

    this.drawLinks(ctx, ox, oy);

    const showLabels = zoom >= this.opts.labelZoom;
    const labelled: { x: number; y: number; text: string; r: number }[] = [];
    // Each marker is a copy of its bucket's sprite: without a GPU, Chromium rasterises thousands of anti-aliased
    // paths far more slowly than it copies as many small bitmaps.
    for (const bucket of this.sortedBuckets) {
      const s = bucket.style;
      const r = s.size;
      const sprite = spriteOf(bucket, dpr);
      ctx.globalAlpha = s.alpha ?? 1;
      // In device pixels at whole-pixel offsets, so each copy is a plain blit with no resampling.
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      for (const e of bucket.entries) {
        if (e.projZoom !== zoom) this.project(e, zoom, crs3857);
        const x = e.px - ox;
        const y = e.py - oy;
        if (x < -r || y < -r || x > width + r || y > height + r) continue;
        ctx.drawImage(sprite.canvas, Math.round(x * dpr) - sprite.half, Math.round(y * dpr) - sprite.half);
        if (showLabels && e.label) labelled.push({ x, y, text: e.label, r });
      }
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    }
    ctx.globalAlpha = 1;

    if (this.highlight.size) {
      ctx.beginPath();
      for (const key of this.highlight) {
        const e = this.entries.get(key);
        if (!e) continue;
        if (e.projZoom !== zoom) this.project(e, zoom, crs3857);
        const x = e.px - ox;
        const y = e.py - oy;
        const rr = e.style.size + 6;
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
    canvas.dataset.markers = String(this.entries.size);
    canvas.dataset.draws = String(this.draws);
    this.lastDrawEnd = performance.now();
    this.lastDrawMs = this.lastDrawEnd - started;
  }

  private drawLinks(ctx: CanvasRenderingContext2D, ox: number, oy: number): void {
    if (!this.links.length || !this._map) return;
    ctx.save();
    ctx.setLineDash([6, 5]);
    ctx.lineWidth = 2;
    for (const link of this.links) {
      const a = this._map.project(link.from, this._map.getZoom());
      const b = this._map.project(link.to, this._map.getZoom());
      ctx.strokeStyle = link.color;
      ctx.beginPath();
      ctx.moveTo(a.x - ox, a.y - oy);
      ctx.lineTo(b.x - ox, b.y - oy);
      ctx.stroke();
    }
    ctx.restore();
  }

  // ---- hit-testing ------------------------------------------------------------------------------

  /** The topmost marker under a container point, or null. A linear scan: 12k subtractions take well under a millisecond. */
  hitTest(containerPoint: L.Point): Entry | null {
    const map = this._map;
    if (!map) return null;
    const zoom = map.getZoom();
    const crs3857 = map.options.crs === L.CRS.EPSG3857;
    const abs = map.containerPointToLayerPoint(containerPoint).add(map.getPixelOrigin());
    let best: Entry | null = null;
    for (const e of this.entries.values()) {
      if (e.projZoom !== zoom) this.project(e, zoom, crs3857);
      const r = e.style.size + HIT_SLOP;
      const dx = e.px - abs.x;
      const dy = e.py - abs.y;
      if (dx * dx + dy * dy > r * r) continue;
      if (!best || e.style.z > best.style.z || (e.style.z === best.style.z && e.seq > best.seq)) best = e;
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

/** The bucket's marker, drawn once into a small canvas (redrawn if the device pixel ratio changes). */
function spriteOf(bucket: Bucket, dpr: number): Sprite {
  if (bucket.sprite?.dpr !== dpr) bucket.sprite = renderSprite(bucket.style, dpr, (width, height) => Object.assign(document.createElement('canvas'), { width, height }));
  return bucket.sprite;
}
