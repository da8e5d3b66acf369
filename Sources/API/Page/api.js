// The box's HTTP API as the page uses it: the session (cookie + CSRF token), JSON requests,
// RFC 9457 problem JSON as ApiError, and a hook for "the session is gone" (any 401).

/** An HTTP error answered with problem JSON (or a network failure, status 0). */
export class ApiError extends Error {
    constructor(status, problem, retryAfter) {
        super(problem.detail || problem.title || `HTTP ${status}`);
        this.status = status;
        this.problem = problem;
        /** Seconds from the Retry-After header (429), or null. */
        this.retryAfter = retryAfter;
    }
    /** The JSON path the server named (`outputs[2].url`), or ''. */
    get path() { return this.problem.path || ''; }
}

let csrf = '';
let onUnauthorized = () => {};

/** Calls `handler` whenever a request is answered 401 (the login form comes back). */
export function setUnauthorizedHandler(handler) { onUnauthorized = handler; }

/** The CSRF token of the current session ('' when there is none). */
export function csrfToken() { return csrf; }

async function problemOf(response) {
    const text = await response.text().catch(() => '');
    try {
        const p = JSON.parse(text);
        if (p && typeof p === 'object') return p;
    } catch { /* not JSON */ }
    return { title: response.statusText || `HTTP ${response.status}`, status: response.status,
        detail: text.trim().slice(0, 300) || `HTTP ${response.status}` };
}

/**
 * One request. `body` (if any) is sent as JSON; every method but GET/HEAD carries the CSRF token.
 * Resolves to the parsed JSON (or null for 202/204/empty); rejects with ApiError.
 * `quiet401`: a 401 is the caller's business (wrong current password), not a lost session.
 * A 403 for a stale CSRF token (a login in another tab made a new one) fetches the session again and
 * retries once.
 */
export async function request(method, path, body, { quiet401 = false, raw = false, retried = false } = {}) {
    const headers = { Accept: 'application/json' };
    if (method !== 'GET' && method !== 'HEAD' && csrf) headers['X-CSRF-Token'] = csrf;
    const init = { method, credentials: 'same-origin', headers, cache: 'no-store' };
    if (body !== undefined) {
        headers['Content-Type'] = 'application/json';
        init.body = typeof body === 'string' ? body : JSON.stringify(body);
    }
    let response;
    try {
        response = await fetch(path, init);
    } catch (e) {
        throw new ApiError(0, { title: 'no connection', detail: `the box does not answer (${e.message})` }, null);
    }
    if (!response.ok) {
        const problem = await problemOf(response);
        const ra = parseInt(response.headers.get('Retry-After') || '', 10);
        const err = new ApiError(response.status, problem, Number.isFinite(ra) ? ra : null);
        if (response.status === 403 && !retried && /csrf/i.test(`${problem.title || ''} ${problem.detail || ''}`)) {
            const session = await getSession().catch(() => undefined);
            if (session) return request(method, path, body, { quiet401, raw, retried: true });
        }
        if (response.status === 401 && !quiet401) {
            csrf = '';
            onUnauthorized(err);
        }
        throw err;
    }
    if (raw) return response;
    if (response.status === 204 || response.status === 202) return null;
    const text = await response.text();
    return text ? JSON.parse(text) : null;
}

/** GET /api/v1/session: the session if the cookie is valid, else null (401). */
export async function getSession() {
    try {
        const s = await request('GET', '/api/v1/session', undefined, { quiet401: true });
        csrf = s.csrf || '';
        return s;
    } catch (e) {
        if (e.status === 401) { csrf = ''; return null; }
        throw e;
    }
}

/** POST /api/v1/session with the password; rejects with ApiError (401 wrong, 429 rate-limited). */
export async function login(password) {
    const s = await request('POST', '/api/v1/session', { password }, { quiet401: true });
    csrf = s.csrf || '';
    return s;
}

/** DELETE /api/v1/session. */
export async function logout() {
    try {
        await request('DELETE', '/api/v1/session', undefined, { quiet401: true });
    } finally {
        csrf = '';
    }
}

/** POST /api/v1/password; every session ends on success. */
export async function changePassword(current, next) {
    await request('POST', '/api/v1/password', { current, new: next }, { quiet401: true });
    csrf = '';
}

/** GET and JSON of one API path. */
export const get = (path) => request('GET', path);
