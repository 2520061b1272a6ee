import type { Problem, Session } from './types.ts';

const SESSION_KEY = 'cbd.session';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.name = 'ApiError';
  }
  get isConflict(): boolean {
    return this.status === 409 || this.status === 412;
  }
}

/** crypto.randomUUID only exists in secure contexts; a dispatcher on plain http inside a LAN still needs keys. */
export function uuid(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

type Listener = () => void;

class ApiClient {
  private session: Session | null = loadSession();
  private unauthorizedListeners = new Set<Listener>();

  get current(): Session | null {
    return this.session;
  }

  setSession(session: Session | null): void {
    this.session = session;
    if (session) localStorage.setItem(SESSION_KEY, JSON.stringify(session));
    else localStorage.removeItem(SESSION_KEY);
  }

  onUnauthorized(listener: Listener): () => void {
    this.unauthorizedListeners.add(listener);
    return () => this.unauthorizedListeners.delete(listener);
  }

  async login(username: string, password: string): Promise<Session> {
    const session = await this.request<Session>('POST', '/api/auth/login', { username, password }, { auth: false });
    this.setSession(session);
    return session;
  }

  get<T>(path: string, signal?: AbortSignal): Promise<T> {
    return this.request<T>('GET', path, undefined, { signal });
  }

  /**
   * Commands carry an Idempotency-Key so that a retry after a dropped response (flaky mobile data in
   * the field) can never write the same fact twice.
   */
  command<T = { id?: string; revision?: number }>(path: string, body: unknown = {}, idempotencyKey = uuid()): Promise<T> {
    return this.request<T>('POST', path, body, { headers: { 'Idempotency-Key': idempotencyKey } });
  }

  /** Like get, but a 404 or 501 (a route that is not there yet) answers null instead of throwing. */
  async optional<T>(path: string): Promise<T | null> {
    try {
      return await this.get<T>(path);
    } catch (e) {
      if (e instanceof ApiError && (e.status === 404 || e.status === 501 || e.status === 405)) return null;
      throw e;
    }
  }

  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    opts: { auth?: boolean; headers?: Record<string, string>; signal?: AbortSignal } = {},
  ): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json, application/problem+json', ...opts.headers };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (opts.auth !== false && this.session) headers.Authorization = `Bearer ${this.session.token}`;
    let res: Response;
    try {
      res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: opts.signal });
    } catch (e) {
      if ((e as Error).name === 'AbortError') throw e;
      throw new ApiError(0, { title: 'Network error', status: 0, detail: (e as Error).message });
    }
    const text = await res.text();
    let payload: unknown = undefined;
    if (text) {
      try {
        payload = JSON.parse(text);
      } catch {
        payload = text;
      }
    }
    if (!res.ok) {
      const problem: Problem =
        payload && typeof payload === 'object'
          ? { title: res.statusText, status: res.status, ...(payload as Partial<Problem>) }
          : { title: res.statusText || `HTTP ${res.status}`, status: res.status, detail: typeof payload === 'string' ? payload : undefined };
      // A login attempt with a bad password is also a 401, and it must not log anyone out.
      if (res.status === 401 && opts.auth !== false) for (const l of this.unauthorizedListeners) l();
      throw new ApiError(res.status, problem);
    }
    return payload as T;
  }
}

function loadSession(): Session | null {
  try {
    const raw = localStorage.getItem(SESSION_KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

export const api = new ApiClient();

export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}
