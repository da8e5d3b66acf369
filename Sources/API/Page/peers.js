// The peers of an SRT output (`peers[]`, one row each, from srt_bstats) and the link of a RIST output
// (`rist`, one row): RTT, loss, retransmissions as numbers and sparklines over the last 5 minutes.

import { el, setText, fmtInt, fmtNum } from './dom.js';
import { History, makeSpark, drawSpark } from './charts.js';

/** Loss or retransmissions within this many seconds make the card amber. */
const RECENT_S = 10;
/** How long a disconnected peer is kept off the card while the statistics still list it, ms. */
const GONE_MS = 3000;

function isListener(url) {
    return /^srt:\/\/:/.test(url) || /[?&]mode=listener/.test(url) || /^rist:\/\/@/.test(url);
}

function makeRow(key, label) {
    const charts = {
        rtt: makeSpark(`RTT of ${label}, ms`), loss: makeSpark(`Packets lost per second, ${label}`),
        retrans: makeSpark(`Retransmissions per second, ${label}`),
    };
    const cell = (cls, title, spark) => el('div', { class: `pfig ${cls}-fig` }, el('span', { class: 'k' }, title),
        el('span', { class: cls }, '—'), spark);
    const row = el('div', { class: 'peer', 'data-peer': key, role: 'group', 'aria-label': `peer ${label}` },
        el('div', { class: 'peer-name' }, el('code', {}, label), el('span', { class: 'streamid' })),
        cell('rtt', 'RTT ms', charts.rtt), cell('loss', 'Lost', charts.loss),
        cell('retrans', 'Retrans', charts.retrans),
        el('div', { class: 'pfig' }, el('span', { class: 'k' }, 'Rate'), el('span', { class: 'rate' }, '—')));
    return { row, charts, hist: { rtt: new History(), loss: new History(), retrans: new History() }, last: null };
}

function perSecond(now, last, value, prev) {
    if (!last || typeof value !== 'number' || typeof prev !== 'number' || now <= last.t || value < prev) return 0;
    return ((value - prev) * 1000) / (now - last.t);
}

/** Updates one row from `{rttMs, lost, retransmitted, rate, streamid}`; returns whether it lost recently. */
function updateRow(p, fig, now) {
    const last = p.last;
    p.hist.rtt.push(now, fig.rttMs);
    p.hist.loss.push(now, perSecond(now, last, fig.lost, last?.lost));
    p.hist.retrans.push(now, perSecond(now, last, fig.retransmitted, last?.retransmitted));
    p.last = { t: now, lost: fig.lost, retransmitted: fig.retransmitted };
    setText(p.row.querySelector('.rtt'), fmtNum(fig.rttMs, 1));
    setText(p.row.querySelector('.loss'), fmtInt(fig.lost ?? 0));
    setText(p.row.querySelector('.retrans'), fmtInt(fig.retransmitted ?? 0));
    setText(p.row.querySelector('.rate'), fig.rate);
    setText(p.row.querySelector('.streamid'), fig.streamid ? ` ${fig.streamid}` : '');
    for (const k of ['rtt', 'loss', 'retrans']) drawSpark(p.charts[k], p.hist[k], now, k === 'rtt' ? ' ms' : '/s');
    const lossy = p.hist.loss.anyPositiveWithin(RECENT_S, now);
    p.row.dataset.state = lossy ? 'warn' : 'ok';
    return lossy;
}

/** ok / warn for the peers of an output. */
export function peerState(lossy, connected, listener) {
    if (lossy) return 'warn';
    return connected || listener ? 'ok' : 'warn';
}

/** Updates the peer rows of `entry`'s card from output status `o`; returns the peers' card state. */
export function updatePeers(entry, o, now, box) {
    const figs = new Map();
    if (Array.isArray(o.peers)) {
        for (const p of o.peers) {
            figs.set(String(p.peer), { rttMs: p.rttMs, lost: p.packetsLost, retransmitted: p.packetsRetransmitted,
                rate: `${fmtNum(p.sendRateMbps, 2)} Mb/s`, streamid: p.streamid || '' });
        }
    } else if (o.rist && typeof o.rist === 'object') {
        const r = o.rist;
        if (r.connected !== false) {
            const rate = r.quality !== undefined ? `quality ${fmtNum(r.quality, 0)} %` : '—';
            figs.set('rist', { rttMs: r.rttMs, lost: r.lost, retransmitted: r.retransmitted, rate,
                streamid: r.profile || '' });
        }
    }
    // Peers an OUTPUT_DISCONNECT named stay away while the statistics catch up (at most GONE_MS).
    for (const [peer, at] of entry.gone) {
        if (now - at > GONE_MS || !figs.has(peer)) entry.gone.delete(peer);
        else figs.delete(peer);
    }
    let lossy = false;
    const rows = [];
    for (const [key, fig] of figs) {
        let p = entry.peers.get(key);
        if (!p) {
            p = makeRow(key, key === 'rist' ? 'RIST link' : key);
            entry.peers.set(key, p);
        }
        lossy = updateRow(p, fig, now) || lossy;
        rows.push(p.row);
    }
    for (const key of [...entry.peers.keys()]) if (!figs.has(key)) entry.peers.delete(key);
    const same = rows.length === box.children.length && rows.every((r, i) => box.children[i] === r);
    if (!same) box.replaceChildren(...rows);
    const hasPeers = Array.isArray(o.peers) || o.rist;
    if (!hasPeers) return 'ok';
    box.dataset.empty = figs.size ? 'false' : 'true';
    if (!figs.size && o.state === 'running') {
        box.replaceChildren(el('p', { class: 'hint' }, isListener(o.url) ? 'no peer connected' : 'not connected'));
    } else if (!figs.size) {
        box.replaceChildren();
    }
    return peerState(lossy, figs.size > 0, isListener(o.url));
}
