// The health cards: Source, Encoders, Program, Stages — each with a big state badge
// (data-state ok|warn|alarm and the text OK / WARN / ALARM or LOST), updated from each status poll.

import { el, setText, fmtBitrate, fmtInt, fmtNum, cardHead, figure, setCardState, worst, maskSecrets } from './dom.js';

/** A counter that rose within this many seconds makes its card amber. */
const RECENT_S = 10;

const risen = new Map(); // key → { value, at }

/** Whether counter `key` rose within RECENT_S (remembers the last value). */
function roseRecently(key, value, now) {
    if (typeof value !== 'number') return false;
    const r = risen.get(key);
    if (!r) { risen.set(key, { value, at: 0 }); return false; }
    if (value > r.value) r.at = now;
    r.value = value;
    return now - r.at < RECENT_S * 1000;
}

function build(card, title, figs) {
    if (card.childElementCount) return;
    card.append(cardHead(card.id, title), el('dl', { class: 'figs' }, ...figs.map(([k, l]) => figure(k, l))));
}

function put(card, key, text) { setText(card.querySelector(`dd.${key}`), text); }

/** Updates the Source card. */
export function updateSource(status, now) {
    const card = document.getElementById('card-source');
    const s = status.source || {};
    if (s.type === 'gateway') {
        build(card, 'Source', [['signal', 'Input'], ['url', 'URL'], ['bitrate', 'Bitrate'], ['lost', 'Lost'],
            ['cc', 'CC errors'], ['rtt', 'RTT'], ['peer', 'Peer']]);
        card.dataset.type = 'gateway';
        // Receiving: packets arrived within RECENT_S (SRT/RIST also say whether a peer is connected).
        const arriving = typeof s.received === 'number' ? roseRecently('gw-received', s.received, now) : true;
        const connected = s.connected !== false && arriving;
        put(card, 'signal', connected ? 'receiving' : s.connected === false ? 'no peer' : 'no packets');
        put(card, 'peer', s.peer ? `${s.peer}${s.streamid ? ` (${s.streamid})` : ''}` : '—');
        put(card, 'url', s.url ? maskSecrets(s.url) : '—');
        put(card, 'bitrate', fmtBitrate(s.bitrate));
        put(card, 'lost', fmtInt(s.lost ?? 0));
        put(card, 'cc', fmtInt(s.ccErrors ?? 0));
        put(card, 'rtt', s.rttMs !== undefined ? `${fmtNum(s.rttMs, 1)} ms` : '—');
        const lossy = roseRecently('gw-lost', s.lost, now) || roseRecently('gw-cc', s.ccErrors, now);
        const state = !connected ? 'alarm' : lossy ? 'warn' : 'ok';
        setCardState(card, state, !connected ? 'LOST' : undefined);
        return;
    }
    build(card, 'Source', [['signal', 'Signal'], ['resolution', 'Resolution'], ['fps', 'Frame rate'],
        ['dropped', 'Dropped frames'], ['type', 'Type']]);
    const signal = String(s.signal || 'unknown');
    put(card, 'signal', signal);
    put(card, 'resolution', s.width && s.height ? `${s.width}×${s.height}` : '—');
    put(card, 'fps', `${fmtNum(s.fps, 2)}${s.nominalFps ? ` (${s.nominalFps})` : ''}`);
    put(card, 'dropped', fmtInt(s.droppedFrames ?? 0));
    put(card, 'type', [s.type, s.videoDevice].filter(Boolean).join(' · ') || '—');
    const dropping = roseRecently('src-dropped', s.droppedFrames, now);
    const state = signal === 'present' ? (dropping ? 'warn' : 'ok') : signal === 'lost' ? 'alarm' : 'warn';
    setCardState(card, state, signal === 'lost' ? 'LOST' : undefined);
}

/** Updates the Encoders card (alarm when an encode stage is not running). */
export function updateEncoders(status, now) {
    const card = document.getElementById('card-encoders');
    build(card, 'Encoders', [['video', 'Video'], ['vbitrate', 'Video bitrate'], ['vfps', 'Video fps'],
        ['audio', 'Audio'], ['abitrate', 'Audio bitrate'], ['dropped', 'Dropped']]);
    const v = status.encoders?.video || {};
    const a = status.encoders?.audio || {};
    put(card, 'video', v.codec ? String(v.codec) : '—');
    put(card, 'vbitrate', fmtBitrate(v.bitrate));
    put(card, 'vfps', fmtNum(v.fps, 2));
    put(card, 'audio', a.codec ? String(a.codec) : '—');
    put(card, 'abitrate', fmtBitrate(a.bitrate));
    put(card, 'dropped', fmtInt((v.dropped || 0) + (a.dropped || 0)));
    const stages = (status.stages || []).filter((s) => s.name.startsWith('encode-'));
    const state = worst(...stages.map(stageState),
        roseRecently('enc-dropped', (v.dropped || 0) + (a.dropped || 0), now) ? 'warn' : 'ok');
    if (status.source?.type === 'gateway') setCardState(card, 'off', 'RELAY');
    else setCardState(card, stages.length ? state : 'alarm');
}

/** Updates the Program (multiplex) card. */
export function updateProgram(status) {
    const card = document.getElementById('card-program');
    build(card, 'Program', [['mode', 'Mode'], ['bitrate', 'Bitrate'], ['muxrate', 'Mux rate'],
        ['nulls', 'Null packets'], ['packets', 'Packets']]);
    const p = status.program || {};
    put(card, 'mode', p.mode ? String(p.mode).toUpperCase() : '—');
    put(card, 'bitrate', fmtBitrate(p.bitrate));
    put(card, 'muxrate', p.muxrate ? fmtBitrate(p.muxrate) : '—');
    put(card, 'nulls', fmtInt(p.nullPackets));
    put(card, 'packets', fmtInt(p.packets));
    const mux = (status.stages || []).find((s) => s.name === 'mux');
    setCardState(card, mux ? stageState(mux) : 'alarm');
}

/** ok / warn / alarm of one stage: red when not running, amber when restarting. */
export function stageState(s) {
    if (s.state === 'running') return 'ok';
    if (s.state === 'backoff' || s.state === 'stopping') return 'warn';
    return 'alarm';
}

/** Updates the Stages card: a row per stage (name, state, restarts). */
export function updateStages(status, now) {
    const card = document.getElementById('card-stages');
    if (!card.childElementCount) {
        card.append(cardHead(card.id, 'Stages'),
            el('table', { class: 'stages' }, el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Stage'),
                el('th', { scope: 'col' }, 'State'), el('th', { scope: 'col' }, 'Restarts'))), el('tbody')));
    }
    const body = card.querySelector('tbody');
    const stages = status.stages || [];
    const rows = stages.map((s) => {
        let row = body.querySelector(`tr[data-stage="${CSS.escape(s.name)}"]`);
        if (!row) {
            row = el('tr', { 'data-stage': s.name }, el('th', { scope: 'row' }, s.name), el('td', { class: 'state' }),
                el('td', { class: 'restarts' }));
        }
        const st = stageState(s);
        const recent = roseRecently(`stage-${s.name}`, s.restarts, now);
        row.dataset.state = st === 'ok' && recent ? 'warn' : st;
        setText(row.querySelector('.state'), s.state);
        setText(row.querySelector('.restarts'), String(s.restarts ?? 0));
        row.title = s.lastExit ? `last exit: ${s.lastExit}` : '';
        return row;
    });
    body.replaceChildren(...rows);
    // A stopped send stage is an operator's choice; it is shown on the output's card.
    const states = stages.map((s) => {
        const row = body.querySelector(`tr[data-stage="${CSS.escape(s.name)}"]`);
        return s.name.startsWith('send-') && s.state === 'stopped' ? 'ok' : row.dataset.state;
    });
    setCardState(card, worst(...states));
}
