// One card per output: state, bitrate (from the byte counter between polls), capture→wire latency,
// start/stop/edit/delete, SDP download (rtp://), and for SRT a row per peer (RIST: one row) with RTT,
// loss, retransmissions and sparklines of the last 5 minutes. A peer gone from `peers[]` goes away.

import { el, setText, fmtBitrate, fmtInt, fmtNum, cardHead, figure, setCardState, maskSecrets } from './dom.js';
import { History, makeSpark, drawSpark } from './charts.js';
import { request } from './api.js';
import { showError } from './notice.js';
import { updatePeers } from './peers.js';

/** A delete needs a second click within this long. */
const CONFIRM_MS = 5000;
/** Send errors within this long make the card amber. */
const RECENT_ERRORS_MS = 10000;

const outputs = new Map(); // id → { card, lastBytes, lastAt, bitrate: History }
let handlers = { edit: () => {}, changed: () => {} };

/**
 * An OUTPUT_DISCONNECT (`connected` false) takes the peer's row away at once, before the statistics
 * (written once a second) drop it; an OUTPUT_CONNECT of the same peer brings it back.
 */
export function notePeer(id, peer, connected) {
    const entry = outputs.get(id);
    if (!entry) return;
    if (connected) entry.gone.delete(peer);
    else entry.gone.set(peer, Date.now());
    if (!connected) entry.peers.get(peer)?.row.remove();
}

/** A RECORDING_END names the file just closed: shown on the recording's card. */
export function noteRecording(id, path, seconds) {
    const entry = outputs.get(id);
    if (!entry) return;
    entry.lastFile = `${path}${seconds ? ` (${Math.round(Number(seconds))} s)` : ''}`;
    setText(entry.card.querySelector('dd.file'), entry.lastFile);
}

/** Sets what Edit does (opens the form) and what to do after a change (poll now). */
export function setOutputHandlers(h) { handlers = { ...handlers, ...h }; }

function schemeOf(url) { return String(url || '').split(':')[0].toLowerCase(); }

function button(action, id, text) {
    return el('button', { type: 'button', 'data-action': action, 'data-output': id, class: `act-${action}` }, text);
}

function makeCard(o) {
    const id = o.id;
    const card = el('article', { id: `card-output-${id}`, class: 'card state-card output', 'data-state': 'ok',
        'data-output': id, 'aria-labelledby': `card-output-${id}-title` });
    const spark = makeSpark(`Bitrate of ${id}`);
    const sdp = el('a', { class: 'sdp', href: `/api/v1/outputs/${encodeURIComponent(id)}/sdp`, download: `${id}.sdp`,
        'data-action': 'sdp', 'data-output': id }, 'SDP');
    card.append(cardHead(card.id, id),
        el('p', { class: 'url' }, el('code', { class: 'url-text' })),
        el('dl', { class: 'figs' }, figure('state', 'State'), figure('bitrate', 'Bitrate'),
            figure('latency', 'Capture→wire p50 / p99'), figure('packets', 'Packets'), figure('errors', 'Errors'),
            figure('current', 'Writing'), figure('file', 'Last file closed')),
        el('div', { class: 'spark-row' }, spark),
        el('div', { class: 'peers' }),
        el('div', { class: 'buttons' }, button('start', id, 'Start'), button('stop', id, 'Stop'),
            button('edit', id, 'Edit'), button('delete', id, 'Delete'), sdp));
    card.addEventListener('click', (ev) => onClick(ev, id));
    return { card, spark, sdp, lastBytes: null, lastAt: 0, bitrate: new History(), peers: new Map(), gone: new Map() };
}

async function onClick(ev, id) {
    const b = ev.target.closest('button[data-action]');
    if (!b) return;
    const action = b.dataset.action;
    if (action === 'edit') { handlers.edit(id); return; }
    if (action === 'delete') {
        if (b.dataset.confirm !== 'true') {
            b.dataset.confirm = 'true';
            b.textContent = 'Confirm delete';
            setTimeout(() => { b.dataset.confirm = 'false'; b.textContent = 'Delete'; }, CONFIRM_MS);
            return;
        }
        await deleteOutput(id);
        return;
    }
    b.disabled = true;
    try {
        await request('POST', `/api/v1/outputs/${encodeURIComponent(id)}/${action}`);
        handlers.changed();
    } catch (e) {
        if (e.status !== 401) showError(`${action} ${id}: ${e.message}`);
    } finally {
        b.disabled = false;
    }
}

async function deleteOutput(id) {
    try {
        const list = (await request('GET', '/api/v1/config/outputs')) || [];
        await request('PUT', '/api/v1/config/outputs', list.filter((o) => o.id !== id));
        handlers.changed();
    } catch (e) {
        if (e.status !== 401) showError(`delete ${id}: ${e.message}`);
    }
}

function outputState(o, peersState, errorsRising) {
    if (o.state === 'failed') return 'alarm';
    if (o.state === 'stopped') return 'off';
    if (o.state !== 'running') return 'warn';
    if (errorsRising) return 'warn';
    return peersState;
}

function update(entry, o, now) {
    const { card } = entry;
    const scheme = schemeOf(o.url);
    card.dataset.scheme = scheme;
    const shown = scheme === 'file' ? String(o.url).replace(/^file:\/\//, '') : o.url;
    setText(card.querySelector('.url-text'), maskSecrets(shown));
    setText(card.querySelector('dd.state'), o.state);
    // Bitrate from the byte counter between two polls (no bitrate field in the status).
    let bps = null;
    if (typeof o.bytes === 'number') {
        if (entry.lastBytes !== null && o.bytes >= entry.lastBytes && now > entry.lastAt) {
            bps = ((o.bytes - entry.lastBytes) * 8 * 1000) / (now - entry.lastAt);
        }
        entry.lastBytes = o.bytes;
        entry.lastAt = now;
    }
    if (o.state !== 'running') bps = 0;
    entry.bitrate.push(now, bps);
    if (bps !== null || o.state !== 'running') setText(card.querySelector('dd.bitrate'), fmtBitrate(bps));
    drawSpark(entry.spark, entry.bitrate, now, ' b/s');
    const c2w = o.captureToWireMs;
    setText(card.querySelector('dd.latency'), c2w ? `${fmtNum(c2w.p50, 1)} / ${fmtNum(c2w.p99, 1)} ms` : '—');
    setText(card.querySelector('dd.packets'), fmtInt(o.packets));
    const errors = (o.sendErrors || 0) + (o.lostChunks || 0);
    if (entry.lastErrors !== undefined && errors > entry.lastErrors) entry.errorsAt = now;
    entry.lastErrors = errors;
    const errorsRising = now - (entry.errorsAt || 0) < RECENT_ERRORS_MS;
    setText(card.querySelector('dd.errors'), fmtInt(errors));
    entry.sdp.hidden = scheme !== 'rtp';
    card.querySelector('dd.file').parentElement.hidden = scheme !== 'file';
    card.querySelector('dd.current').parentElement.hidden = scheme !== 'file';
    // The file being written (the recorder's status: path, bytes, seconds), or why none is.
    setText(card.querySelector('dd.current'), o.file
        ? `${o.file} (${fmtInt(Math.round((o.fileSeconds || 0)))} s, ${fmtInt(Math.round((o.fileBytes || 0) / 1e6))} MB)`
        : (o.state === 'running' ? 'waiting for a keyframe' : '—'));
    card.querySelector('.act-start').disabled = o.state === 'running';
    card.querySelector('.act-stop').disabled = o.state === 'stopped';
    const peersState = updatePeers(entry, o, now, card.querySelector('.peers'));
    setCardState(card, outputState(o, peersState, errorsRising));
}

/** Updates the output cards from a status: new cards for new outputs, gone ones removed. */
export function updateOutputs(status, now) {
    const box = document.getElementById('output-cards');
    const list = status.outputs || [];
    const seen = new Set();
    const cards = list.map((o) => {
        seen.add(o.id);
        let entry = outputs.get(o.id);
        if (!entry) { entry = makeCard(o); outputs.set(o.id, entry); }
        update(entry, o, now);
        return entry.card;
    });
    for (const id of [...outputs.keys()]) if (!seen.has(id)) outputs.delete(id);
    const same = cards.length === box.children.length && cards.every((c, i) => box.children[i] === c);
    if (!same) box.replaceChildren(...cards);
    setText(document.getElementById('outputs-title'), `Outputs (${list.length})`);
}
