// The REST client: one fetch wrapper that turns every failure into an
// ApiError shaped like the server's {"error": {"status", "code", "message"}}.

export class ApiError extends Error {
  constructor(status, code, message, detail) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.detail = detail || {};
  }
}

// Builds "path?k=v&..." leaving out empty values.
export function url(path, params = {}) {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    qs.set(k, Array.isArray(v) ? v.join(',') : String(v));
  }
  const s = qs.toString();
  return s ? `${path}?${s}` : path;
}

// GET (or METHOD with a JSON BODY); resolves to the parsed JSON, rejects
// with an ApiError, or with the AbortError of SIGNAL.
export async function api(path, { method = 'GET', body, token, signal } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      credentials: 'omit',
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', 'The server cannot be reached.');
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!res.ok) {
    const er = (data && data.error) || {};
    throw new ApiError(er.status || res.status, er.code || `http_${res.status}`,
      er.message || res.statusText || `HTTP ${res.status}`, er);
  }
  return data;
}
