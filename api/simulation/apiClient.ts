/** A small HTTP client of the public API for the simulator (SIMULATE=true) and the SF replay script (fetch, JSON in and out). */
export interface ApiAnswer<T = any> {
  status: number;
  body: T;
}

export class ApiClient {
  private readonly tokens = new Map<string, string>();
  constructor(readonly baseUrl: string) {}

  async login(username: string, password: string): Promise<string> {
    const cached = this.tokens.get(username);
    if (cached) return cached;
    const answer = await this.request<{ token: string }>('POST', '/api/auth/login', { body: { username, password } });
    if (answer.status !== 200) throw new Error(`cannot log in as ${username} at ${this.baseUrl}: ${answer.status} ${describe(answer.body)}`);
    this.tokens.set(username, answer.body.token);
    return answer.body.token;
  }

  async request<T = any>(method: string, path: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<ApiAnswer<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    let response = await fetch(this.baseUrl + path, { method, headers, ...(options.body !== undefined && { body: JSON.stringify(options.body) }) });
    // Rate limited: wait as long as the server asks (a busy simulation against the demo's limits), a few times.
    for (let attempt = 0; response.status === 429 && attempt < 3; attempt++) {
      const wait = Number(response.headers.get('retry-after') ?? '1');
      if (!Number.isFinite(wait) || wait > 120) break;
      await response.arrayBuffer();
      await new Promise((resolve) => setTimeout(resolve, Math.max(0.1, wait) * 1000));
      response = await fetch(this.baseUrl + path, { method, headers, ...(options.body !== undefined && { body: JSON.stringify(options.body) }) });
    }
    const text = await response.text();
    const type = response.headers.get('content-type') ?? '';
    return { status: response.status, body: (/json/.test(type) && text !== '' ? JSON.parse(text) : text) as T };
  }
}

/** A problem body's detail, or the body itself, for error messages. */
export function describe(body: unknown): string {
  if (body && typeof body === 'object' && 'detail' in body) return String((body as { detail: unknown }).detail);
  return typeof body === 'string' ? body.slice(0, 300) : JSON.stringify(body).slice(0, 300);
}
