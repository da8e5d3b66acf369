// Output URLs ↔ the fields of the output form (README "Outputs"): scheme, host, port, the common options
// per scheme (SRT mode/latency/passphrase/streamid, RIST profile), the file path, and the other options.

/** Query options that have a field of their own, per scheme. */
export const OWN_OPTIONS = { srt: ['mode', 'latency', 'passphrase', 'streamid'], rist: ['profile'] };

/** Splits `name=value&…` into [name, value] pairs (values percent-decoded when they can be). */
function parseQuery(q) {
    if (!q) return [];
    return q.split('&').filter(Boolean).map((part) => {
        const i = part.indexOf('=');
        const name = i < 0 ? part : part.slice(0, i);
        const raw = i < 0 ? '' : part.slice(i + 1);
        let value = raw;
        try { value = decodeURIComponent(raw); } catch { /* keep as written */ }
        return [name, value];
    });
}

/** Fields of the form from a URL as written in the config. */
export function parseOutputURL(url) {
    const f = { scheme: 'srt', host: '', port: '', mode: '', latency: '', passphrase: '', streamid: '', profile: '',
        path: '', options: '' };
    const m = /^([a-z0-9]+):\/\/(.*)$/i.exec(String(url || '').trim());
    if (!m) return f;
    f.scheme = m[1].toLowerCase();
    let rest = m[2];
    const qi = rest.indexOf('?');
    const query = qi < 0 ? '' : rest.slice(qi + 1);
    rest = qi < 0 ? rest : rest.slice(0, qi);
    if (f.scheme === 'file') {
        f.path = rest;
    } else {
        const hp = /^(.*):(\d*)$/.exec(rest);
        f.host = hp ? hp[1] : rest;
        f.port = hp ? hp[2] : '';
        if (f.host.startsWith('[') && f.host.endsWith(']')) f.host = f.host.slice(1, -1);
    }
    const own = OWN_OPTIONS[f.scheme] || [];
    const other = [];
    for (const [name, value] of parseQuery(query)) {
        if (own.includes(name)) f[name] = value;
        else other.push(value === '' && !query.includes(`${name}=`) ? name : `${name}=${value}`);
    }
    f.options = other.join('&');
    return f;
}

function enc(v) {
    // Keep the characters URLs of the box use readable (`,` `:` `#` `!` `=` in streamid / packetfilter).
    return encodeURIComponent(v).replace(/%2C/gi, ',').replace(/%3A/gi, ':').replace(/%21/g, '!')
        .replace(/%23/g, '#').replace(/%3D/gi, '=').replace(/%2F/gi, '/');
}

/** The URL the fields describe. */
export function buildOutputURL(f) {
    const scheme = f.scheme || 'srt';
    const params = [];
    for (const name of OWN_OPTIONS[scheme] || []) {
        const v = String(f[name] ?? '').trim();
        if (v !== '') params.push(`${name}=${name === 'latency' ? v : enc(v)}`);
    }
    const extra = String(f.options || '').trim().replace(/^[?&]+/, '');
    if (extra) params.push(extra);
    const query = params.length ? `?${params.join('&')}` : '';
    if (scheme === 'file') {
        const p = String(f.path || '').trim();
        return `file://${p.startsWith('/') ? '' : '/'}${p}${query}`;
    }
    let host = String(f.host || '').trim();
    if (host.includes(':') && !host.startsWith('[')) host = `[${host}]`;
    return `${scheme}://${host}:${String(f.port || '').trim()}${query}`;
}

/**
 * The form field that a server error about `outputs[i].url` concerns, from the words of its reason
 * (`port "99999" must be …`, `latency=abc …`), or '' when none fits.
 */
export function fieldForURLError(reason, scheme) {
    const r = String(reason || '').toLowerCase();
    const words = [['passphrase', 'of-passphrase'], ['streamid', 'of-streamid'], ['latency', 'of-latency'],
        ['mode', 'of-mode'], ['profile', 'of-profile'], ['port', 'of-port'], ['host', 'of-host'],
        ['address', 'of-host'], ['path', 'of-path'], ['directory', 'of-path']];
    for (const [word, field] of words) {
        if (new RegExp(`\\b${word}\\b`).test(r)) {
            if (scheme === 'file' && (field === 'of-host' || field === 'of-port')) return 'of-path';
            if (scheme !== 'srt' && ['of-passphrase', 'of-streamid', 'of-latency', 'of-mode'].includes(field)) continue;
            if (scheme !== 'rist' && field === 'of-profile') continue;
            return field;
        }
    }
    if (/\w+=/.test(r) || /option/.test(r)) return 'of-options';
    return scheme === 'file' ? 'of-path' : 'of-host';
}
