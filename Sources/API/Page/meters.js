// Audio meters from `GET /api/v1/levels?stream=1` (SSE, `event: levels`, ~10 Hz): a bar per channel
// (RMS bright, peak dim, peak-hold marker held 2 s then falling), numeric dBFS, EBU R128 LUFS numbers.

import { el, setText } from './dom.js';
import { request } from './api.js';

/** The meter scale's bottom and top, dBFS. */
const FLOOR_DB = -60;
const TOP_DB = 0;
/** Peak hold: held this long, then falls at FALL_DB_PER_S. */
const HOLD_MS = 2000;
const FALL_DB_PER_S = 20;
/** The stream's retry delay when it fails (the page's poll shows the connection state). */
const RETRY_MS = 3000;
/** Readings older than this are stale: the bars drop and the status says so (10 Hz stream). */
const STALE_MS = 1500;

let source = null;
let retryTimer = 0;
let channels = [];
let running = false;
let lastAt = 0;
let watchdog = 0;

const metersEl = () => document.getElementById('meters');

function pct(db) {
    if (typeof db !== 'number' || !Number.isFinite(db)) return 0;
    return Math.max(0, Math.min(100, ((db - FLOOR_DB) / (TOP_DB - FLOOR_DB)) * 100));
}

/** dBFS with one decimal, ASCII minus (what the tests parse); "−∞" for silence. */
function fmtDb(db) {
    return typeof db === 'number' && Number.isFinite(db) && db > -200 ? db.toFixed(1) : '-inf';
}

function makeChannel(n) {
    const cover = el('div', { class: 'meter-cover' });
    const rms = el('div', { class: 'meter-rms' });
    const hold = el('div', { class: 'meter-hold' });
    const bar = el('div', { class: 'meter-bar', role: 'meter', 'aria-valuemin': FLOOR_DB, 'aria-valuemax': TOP_DB,
        'aria-valuenow': FLOOR_DB, 'aria-label': `Channel ${n + 1} peak level, dBFS` }, rms, cover, hold);
    const peakValue = el('span', { class: 'peak-value' }, '—');
    const rmsValue = el('span', { class: 'rms-value' }, '—');
    const row = el('div', { class: 'meter', 'data-channel': n },
        el('span', { class: 'ch' }, `${n + 1}`), bar,
        el('span', { class: 'nums' }, el('span', { class: 'k' }, 'pk '), peakValue, el('span', { class: 'k' }, ' rms '),
            rmsValue));
    return { row, bar, cover, rms, hold, peakValue, rmsValue, holdDb: -Infinity, holdAt: 0, lastAt: 0 };
}

function render(levels) {
    const list = Array.isArray(levels?.channels) ? levels.channels : [];
    const box = metersEl();
    if (channels.length !== list.length) {
        channels = list.map((_, i) => makeChannel(i));
        box.replaceChildren(...channels.map((c) => c.row));
    }
    const now = performance.now();
    list.forEach((ch, i) => {
        const c = channels[i];
        const peak = typeof ch.peakDBFS === 'number' ? ch.peakDBFS : -Infinity;
        const dt = c.lastAt ? (now - c.lastAt) / 1000 : 0;
        c.lastAt = now;
        if (peak >= c.holdDb) {
            c.holdDb = peak;
            c.holdAt = now;
        } else if (now - c.holdAt > HOLD_MS) {
            c.holdDb = Math.max(peak, c.holdDb - FALL_DB_PER_S * dt);
        }
        c.cover.style.width = `${100 - pct(peak)}%`;
        c.rms.style.width = `${pct(ch.rmsDBFS)}%`;
        c.hold.style.left = `${pct(c.holdDb)}%`;
        c.hold.hidden = !Number.isFinite(c.holdDb) || c.holdDb <= FLOOR_DB;
        c.bar.setAttribute('aria-valuenow', Number.isFinite(peak) ? Math.max(FLOOR_DB, peak).toFixed(1) : FLOOR_DB);
        c.row.dataset.clip = peak >= -0.1 ? 'true' : 'false';
        setText(c.peakValue, fmtDb(peak));
        setText(c.rmsValue, fmtDb(ch.rmsDBFS));
    });
    setText(document.getElementById('lufs-momentary'), lufs(levels?.momentaryLUFS));
    setText(document.getElementById('lufs-short'), lufs(levels?.shortTermLUFS));
}

function lufs(v) { return typeof v === 'number' && Number.isFinite(v) ? v.toFixed(1) : '—'; }

function setStatus(text) {
    setText(document.getElementById('meters-status'), text);
    document.getElementById('audio').dataset.noaudio = text ? 'true' : 'false';
}

function checkStale() {
    if (!running || !lastAt || performance.now() - lastAt < STALE_MS) return;
    lastAt = 0;
    render({ channels: channels.map(() => ({ peakDBFS: null, rmsDBFS: null })) });
    if (!document.getElementById('meters-status').textContent) setStatus('no audio readings (stream interrupted)');
}

function onLevels(ev) {
    lastAt = performance.now();
    let levels = null;
    try { levels = JSON.parse(ev.data); } catch { return; }
    if (levels === null) {
        setStatus('no audio (no reading yet)');
        render({ channels: channels.map(() => ({ peakDBFS: null, rmsDBFS: null })) });
        return;
    }
    setStatus('');
    render(levels);
}

async function explainFailure() {
    // EventSource hides the status: ask the JSON endpoint why (503 names the reason, e.g. a gateway).
    try {
        await request('GET', '/api/v1/levels');
        setStatus('');
    } catch (e) {
        if (e.status === 503) setStatus(`no audio: ${e.message}`);
        else if (e.status !== 401) setStatus(`audio meters unavailable: ${e.message}`);
    }
}

function open() {
    close();
    if (!running) return;
    source = new EventSource('/api/v1/levels?stream=1', { withCredentials: true });
    source.addEventListener('levels', onLevels);
    source.onmessage = onLevels;
    source.onerror = () => {
        if (source && source.readyState === EventSource.CLOSED) {
            close();
            explainFailure();
            retryTimer = setTimeout(open, RETRY_MS);
        }
    };
}

function close() {
    clearTimeout(retryTimer);
    if (source) source.close();
    source = null;
}

/** Starts the meters (idempotent). */
export function startMeters() {
    if (running) return;
    running = true;
    watchdog = setInterval(checkStale, STALE_MS / 3);
    open();
}

/** Stops the stream (logged out). */
export function stopMeters() {
    running = false;
    clearInterval(watchdog);
    close();
}

/** Reopens the stream now (after the box came back). */
export function reconnectMeters() {
    if (running && (!source || source.readyState === EventSource.CLOSED)) open();
}
