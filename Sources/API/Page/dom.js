// Small DOM and formatting helpers shared by the page's modules (no innerHTML with data: text only).

/** Creates an element: `el('td', {class: 'rtt'}, 'text', child…)`. Attributes starting with `data-` too. */
export function el(tag, attrs = {}, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
        if (v === undefined || v === null || v === false) continue;
        if (k === 'class') e.className = v;
        else if (k === 'text') e.textContent = v;
        else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children) {
        if (c === null || c === undefined || c === false) continue;
        e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
}

/** Sets an element's text only when it changed (no needless layout, no screen-reader chatter). */
export function setText(e, text) {
    if (e && e.textContent !== text) e.textContent = text;
}

/** Bits per second, human: "4.02 Mb/s". */
export function fmtBitrate(bps) {
    if (bps === null || bps === undefined || !Number.isFinite(bps)) return '—';
    if (bps >= 1e6) return `${(bps / 1e6).toFixed(2)} Mb/s`;
    if (bps >= 1e3) return `${(bps / 1e3).toFixed(0)} kb/s`;
    return `${Math.round(bps)} b/s`;
}

/** Seconds as "3 d 04:05:06" / "04:05:06". */
export function fmtDuration(seconds) {
    if (!Number.isFinite(seconds) || seconds < 0) return '—';
    const s = Math.floor(seconds);
    const d = Math.floor(s / 86400);
    const hms = [Math.floor(s / 3600) % 24, Math.floor(s / 60) % 60, s % 60]
        .map((n) => String(n).padStart(2, '0')).join(':');
    return d > 0 ? `${d} d ${hms}` : hms;
}

/** A number with `digits` decimals, or "—". */
export function fmtNum(v, digits = 0) {
    return typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '—';
}

/** An integer with thin-space thousands: 1 234 567. */
export function fmtInt(v) {
    if (typeof v !== 'number' || !Number.isFinite(v)) return '—';
    return Math.round(v).toString().replace(/\B(?=(\d{3})+(?!\d))/g, '\u2009');
}

/** The badge text of a state: colour is never the only signal. */
export const BADGE_TEXT = { ok: 'OK', warn: 'WARN', alarm: 'ALARM', off: 'STOPPED' };

/** Sets `data-state` of a card and the text of its `.badge`. `label` overrides the default text. */
export function setCardState(card, state, label) {
    if (card.dataset.state !== state) card.dataset.state = state;
    setText(card.querySelector('.badge'), label || BADGE_TEXT[state]);
}

/** A card's head: title + big state badge. */
export function cardHead(id, title) {
    return el('div', { class: 'card-head' }, el('h3', { id: `${id}-title` }, title),
        el('span', { class: 'badge', 'aria-live': 'polite' }, 'OK'));
}

/** A definition list row for card figures: `<div><dt>label</dt><dd class=key>…</dd></div>`. */
export function figure(key, label) {
    return el('div', { class: 'fig' }, el('dt', {}, label), el('dd', { class: key }, '—'));
}

/** Rank of states, worst wins. */
export function worst(...states) {
    const rank = { off: 0, ok: 1, warn: 2, alarm: 3 };
    return states.reduce((a, b) => (rank[b] > rank[a] ? b : a), 'ok');
}

/** A URL fit to show on a wall: secrets (`passphrase`, `secret`, `password`) replaced by •••. */
export function maskSecrets(url) {
    return String(url ?? '').replace(/([?&](?:passphrase|secret|password)=)[^&]*/gi, '$1•••');
}
