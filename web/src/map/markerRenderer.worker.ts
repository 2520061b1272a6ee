// The markers' drawing thread: it keeps the scene, draws it into an OffscreenCanvas and hands each finished frame
// back as an ImageBitmap. The page shows the bitmap in the same task as it moves the canvas to the view it was
// drawn for, so a frame never lands at the wrong place after a pan or zoom; a canvas handed over with
// transferControlToOffscreen would be repositioned by the page and repainted by the worker with no common frame.
import { MarkerScene, type DrawnFrame, type SceneBatch } from './markerScene.ts';

interface WorkerScope {
  onmessage: ((ev: MessageEvent<SceneBatch>) => void) | null;
  postMessage(message: DrawnFrame | { error: string }, transfer?: Transferable[]): void;
}
const scope = self as unknown as WorkerScope;

const scene = new MarkerScene((width, height) => new OffscreenCanvas(width, height));
// Kept from one draw to the next, so that a few changed markers repaint only their squares of it.
const canvas = new OffscreenCanvas(1, 1);
const ctx = canvas.getContext('2d');
let scheduled = false;
let copying = false;

scope.onmessage = (ev) => {
  scene.apply(ev.data);
  schedule();
};

// Batches that arrive while a draw runs are all applied before the next one starts: one draw covers them all,
// and it starts as soon as this thread is free — updates are never held back to space draws apart.
function schedule(): void {
  if (scheduled || copying) return;
  scheduled = true;
  setTimeout(draw, 0);
}

async function draw(): Promise<void> {
  scheduled = false;
  const view = scene.view;
  if (!scene.changed || !view) return;
  if (!ctx) {
    scope.postMessage({ error: 'no 2D context on an OffscreenCanvas in this worker' });
    return;
  }
  const started = performance.now();
  const drawn = scene.draw(ctx);
  const frame = { viewId: view.id, seq: scene.seq, markers: scene.count, drawn };
  // Nothing visible changed: the page only learns that what it shows is up to date.
  if (!drawn) return scope.postMessage({ ...frame, ms: performance.now() - started });
  // The page gets a copy (transferToImageBitmap would take the pixels the next partial draw starts from). The
  // copy also rasterises what was drawn, so it belongs to the draw's time; nothing draws until it is taken.
  copying = true;
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(canvas);
  } catch (error) {
    return scope.postMessage({ error: `no copy of the drawn canvas: ${String(error)}` });
  } finally {
    copying = false;
  }
  scope.postMessage({ ...frame, ms: performance.now() - started, bitmap }, [bitmap]);
  if (scene.changed) schedule();
}
