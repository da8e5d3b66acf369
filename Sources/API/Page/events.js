// The live event log from `GET /api/v1/events` (SSE, `event: KIND`, `data: {event,time,output?,payload}`):
// newest first, at most MAX_EVENTS entries, each an <li data-kind="KIND">.

import { el, maskSecrets } from './dom.js';

/** Entries kept in the log. */
const MAX_EVENTS = 200;
/** The box's event kinds (Sources/Config/EventsSection.swift). */
const KINDS = ['SYSTEM_START', 'SYSTEM_STOP', 'CONFIG_CHANGED', 'STAGE_RESTART', 'INPUT_SIGNAL', 'OUTPUT_START',
    'OUTPUT_END', 'OUTPUT_CONNECT', 'OUTPUT_DISCONNECT', 'SRT_ACCEPT', 'RECORDING_END', 'AUDIO_SILENCE', 'AUDIO_CLIP'];
/** Kinds shown red / amber when they start something bad (the text says it too). */
const ALARM = new Set(['OUTPUT_END', 'SYSTEM_STOP']);
const WARN = new Set(['STAGE_RESTART', 'AUDIO_SILENCE', 'AUDIO_CLIP', 'OUTPUT_DISCONNECT']);

/** Kinds after which the status is fetched at once (the cards follow the event without waiting). */
const REFRESH = new Set(['CONFIG_CHANGED', 'STAGE_RESTART', 'INPUT_SIGNAL', 'OUTPUT_START', 'OUTPUT_END',
    'OUTPUT_CONNECT', 'OUTPUT_DISCONNECT', 'RECORDING_END']);

let source = null;
let onState = () => {};
let onRefresh = () => {};

function severity(kind, payload) {
    const state = String(payload?.state || '');
    if (kind === 'INPUT_SIGNAL') return state === 'lost' ? 'alarm' : 'ok';
    if (kind === 'STAGE_RESTART') return state === 'failed' ? 'alarm' : 'warn';
    if ((kind === 'AUDIO_SILENCE' || kind === 'AUDIO_CLIP') && state === 'end') return 'ok';
    if (ALARM.has(kind)) return 'alarm';
    return WARN.has(kind) ? 'warn' : 'ok';
}

function describe(payload) {
    if (!payload || typeof payload !== 'object') return '';
    // Each value masked on its own (an OUTPUT_START `url` may carry a passphrase).
    return Object.entries(payload)
        .map(([k, v]) => `${k}: ${maskSecrets(typeof v === 'object' ? JSON.stringify(v) : v)}`)
        .join(' · ');
}

function timeText(t) {
    const d = typeof t === 'number' ? new Date(t > 1e12 ? t : t * 1000) : new Date(t || Date.now());
    return Number.isNaN(d.getTime()) ? String(t ?? '') : d.toLocaleTimeString([], { hour12: false });
}

function onEvent(ev) {
    let data = {};
    try { data = JSON.parse(ev.data) || {}; } catch { data = { payload: { text: ev.data } }; }
    const kind = data.event || ev.type;
    const sev = severity(kind, data.payload);
    const li = el('li', { 'data-kind': kind, 'data-state': sev },
        el('time', { datetime: typeof data.time === 'string' ? data.time : null }, timeText(data.time)),
        el('span', { class: 'kind' }, kind), data.output ? el('span', { class: 'ev-output' }, data.output) : null,
        el('span', { class: 'ev-payload' }, describe(data.payload)));
    const log = document.getElementById('event-log');
    log.prepend(li);
    while (log.children.length > MAX_EVENTS) log.lastElementChild.remove();
    if (REFRESH.has(kind)) onRefresh(kind, data);
}

/**
 * Opens the event stream; `stateHandler(ok)` hears when it is open / failed, `refresh(kind)` when an event
 * changes what the cards show.
 */
export function startEvents(stateHandler, refresh) {
    if (stateHandler) onState = stateHandler;
    if (refresh) onRefresh = refresh;
    if (source && source.readyState !== EventSource.CLOSED) return;
    source = new EventSource('/api/v1/events', { withCredentials: true });
    for (const k of KINDS) source.addEventListener(k, onEvent);
    source.onmessage = onEvent;
    source.onopen = () => onState(true);
    source.onerror = () => {
        onState(false);
        // EventSource retries network errors itself; an HTTP error closes it: the app reopens it.
    };
}

/** Whether the stream is closed (then the app reopens it after the box answers again). */
export function eventsClosed() { return !source || source.readyState === EventSource.CLOSED; }

/** Closes the stream (logged out). */
export function stopEvents() {
    if (source) source.close();
    source = null;
}
