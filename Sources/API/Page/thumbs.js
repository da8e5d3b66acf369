// Source and program thumbnails, refreshed about once a second each. A picture is fetched as a blob,
// decoded off-screen, then swapped in (no flicker; the last one stays while the next loads).
// 503 (none available) shows the server's reason over a grey box.

import { request } from './api.js';
import { setText } from './dom.js';

/** Refresh period, ms (the server makes at most one picture a second per width). */
const PERIOD_MS = 1000;
/** Width limits of the API (`?width=` 64…1920). */
const MIN_WIDTH = 64;
const MAX_WIDTH = 1920;

let running = false;
let counter = 0;
const thumbs = ['source', 'program'].map((name) => ({ name, timer: 0, url: '', busy: false }));

function wantedWidth(img) {
    const box = img.parentElement.getBoundingClientRect().width || 320;
    const w = Math.round((box * (window.devicePixelRatio || 1)) / 64) * 64;
    return Math.max(MIN_WIDTH, Math.min(MAX_WIDTH, w || 320));
}

async function refresh(t) {
    if (!running || t.busy) return;
    t.busy = true;
    const started = performance.now();
    const img = document.getElementById(`thumb-${t.name}`);
    const reason = document.getElementById(`thumb-${t.name}-reason`);
    const age = document.getElementById(`thumb-${t.name}-age`);
    let url = '';
    try {
        counter += 1;
        const path = `/api/v1/thumbnails/${t.name}.jpg?width=${wantedWidth(img)}&t=${counter}`;
        const response = await request('GET', path, undefined, { raw: true });
        const ageMs = parseInt(response.headers.get('X-Rill-Picture-Age-Ms') || '', 10);
        const blob = await response.blob();
        url = URL.createObjectURL(blob);
        const next = new Image();
        next.src = url;
        await next.decode();
        if (!running) return;
        img.src = url;
        if (t.url) URL.revokeObjectURL(t.url);
        t.url = url;
        reason.hidden = true;
        img.parentElement.dataset.unavailable = 'false';
        setText(age, Number.isFinite(ageMs) && ageMs > 1500 ? `(picture ${(ageMs / 1000).toFixed(1)} s old)` : '');
    } catch (e) {
        if (e.status === 503 || e.status === 404 || e.status >= 500) {
            // No picture: the reason over a grey box (the last picture would lie about the present).
            if (t.url) { URL.revokeObjectURL(t.url); t.url = ''; }
            img.removeAttribute('src');
            img.parentElement.dataset.unavailable = 'true';
            reason.hidden = false;
            setText(reason, e.message || 'no picture');
            setText(age, '');
        }
        // Network failures (status 0) keep the last picture; the header says "reconnecting…".
    } finally {
        if (url && url !== t.url) URL.revokeObjectURL(url);
        t.busy = false;
        if (running) {
            const wait = Math.max(100, PERIOD_MS - (performance.now() - started));
            clearTimeout(t.timer);
            t.timer = setTimeout(() => refresh(t), wait);
        }
    }
}

/** Starts refreshing both thumbnails (idempotent). */
export function startThumbnails() {
    if (running) return;
    running = true;
    for (const t of thumbs) refresh(t);
}

/** Stops refreshing (logged out). */
export function stopThumbnails() {
    running = false;
    for (const t of thumbs) clearTimeout(t.timer);
}
