import { MarkerScene, type DrawnFrame, type SceneBatch } from './markerScene.ts';

/** Where the scene is drawn: in a worker when the browser can, else on the page's own thread as before. */
export interface MarkerRenderer {
  readonly kind: 'worker' | 'main';
  post(batch: SceneBatch): void;
  dispose(): void;
}

/** The layer's side of a renderer. */
export interface RendererHost {
  /** The page canvas that shows the frames. */
  readonly canvas: HTMLCanvasElement;
  /** Whether a frame drawn for this view still fits the map (no zoom or reset since, no zoom animation running). */
  accepts(viewId: number): boolean;
  /** Called in the task that put the frame's pixels on the canvas: the canvas is moved to its view there. */
  presented(frame: DrawnFrame): void;
  /** The worker cannot draw: the layer starts over on the main thread. */
  failed(reason: string): void;
}

export function createMarkerRenderer(host: RendererHost, allowWorker = true): MarkerRenderer {
  if (allowWorker && workerDrawingSupported()) {
    const shown = host.canvas.getContext('bitmaprenderer');
    if (shown) return new WorkerRenderer(host, shown);
  }
  return new InlineRenderer(host);
}

function workerDrawingSupported(): boolean {
  return (
    typeof Worker === 'function' &&
    typeof OffscreenCanvas === 'function' &&
    typeof OffscreenCanvas.prototype.transferToImageBitmap === 'function' &&
    typeof ImageBitmapRenderingContext === 'function'
  );
}

class WorkerRenderer implements MarkerRenderer {
  readonly kind = 'worker';
  private readonly worker: Worker;

  constructor(
    private readonly host: RendererHost,
    private readonly shown: ImageBitmapRenderingContext,
  ) {
    this.worker = new Worker(new URL('./markerRenderer.worker.ts', import.meta.url), { type: 'module' });
    this.worker.onmessage = (ev: MessageEvent<DrawnFrame | { error: string }>) => {
      if ('error' in ev.data) return this.host.failed(ev.data.error);
      this.show(ev.data);
    };
    this.worker.onerror = (ev) => {
      ev.preventDefault();
      this.host.failed(ev.message || 'the marker worker did not start');
    };
  }

  private show(frame: DrawnFrame): void {
    const bitmap = frame.bitmap;
    if (!this.host.accepts(frame.viewId)) {
      bitmap?.close();
      return;
    }
    if (!bitmap) return this.host.presented(frame);
    const canvas = this.host.canvas;
    if (canvas.width !== bitmap.width || canvas.height !== bitmap.height) {
      canvas.width = bitmap.width;
      canvas.height = bitmap.height;
    }
    // Takes the bitmap over without a copy.
    this.shown.transferFromImageBitmap(bitmap);
    this.host.presented(frame);
  }

  post(batch: SceneBatch): void {
    // The typed arrays move to the worker instead of being copied; the layer builds new ones for every batch.
    const transfer = [batch.slots, batch.styles, batch.xy, batch.highlight].filter((a) => a !== undefined).map((a) => a.buffer);
    this.worker.postMessage(batch, transfer);
  }

  dispose(): void {
    this.worker.terminate();
  }
}

/** The fallback: the same scene drawn straight into the page canvas, on the next animation frame. */
class InlineRenderer implements MarkerRenderer {
  readonly kind = 'main';
  private readonly scene = new MarkerScene((width, height) => {
    const c = document.createElement('canvas');
    c.width = width;
    c.height = height;
    return c;
  });
  private readonly ctx: CanvasRenderingContext2D | null;
  private frame = 0;

  constructor(private readonly host: RendererHost) {
    this.ctx = host.canvas.getContext('2d');
  }

  post(batch: SceneBatch): void {
    this.scene.apply(batch);
    if (!this.frame) this.frame = requestAnimationFrame(() => this.draw());
  }

  private draw(): void {
    this.frame = 0;
    const view = this.scene.view;
    // Drawing here shows at once, so not while a zoom animation scales the last frame: the view that ends it redraws.
    if (!view || !this.ctx || !this.scene.changed || !this.host.accepts(view.id)) return;
    const started = performance.now();
    const drawn = this.scene.draw(this.ctx);
    this.host.presented({ viewId: view.id, seq: this.scene.seq, ms: performance.now() - started, markers: this.scene.count, drawn });
  }

  dispose(): void {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
  }
}
