// The add/edit output form (a modal <dialog>): fields per scheme, the URL built live, saved by PUT of the
// whole `outputs` array. A 422 puts the server's detail next to the field its `path` names
// (`outputs[i].url` → the URL field the reason is about); nothing is saved then and the input stays.

import { request } from './api.js';
import { maskSecrets } from './dom.js';
import { parseOutputURL, buildOutputURL, fieldForURLError } from './output-url.js';

const $ = (id) => document.getElementById(id);
const FIELDS = ['scheme', 'host', 'port', 'mode', 'latency', 'passphrase', 'streamid', 'profile', 'path', 'options'];
/** Default ports per scheme for a new output (SRT/RIST common practice; RTP an even port, RFC 3550 §11). */
const DEFAULT_PORT = { srt: '9000', rist: '8000', rtp: '5000', udp: '5000' };

let editing = null; // { originalId, original, builtURL } or null for a new output
let onSaved = () => {};

/** What to do after a successful save (refresh the status). */
export function setOutputFormSaved(handler) { onSaved = handler; }

function values() {
    const f = {};
    for (const k of FIELDS) f[k] = $(`of-${k}`).value;
    return f;
}

function showScheme() {
    const scheme = $('of-scheme').value;
    const form = $('output-form');
    form.dataset.scheme = scheme;
    for (const e of form.querySelectorAll('.for-srt, .for-rist, .for-rtp, .for-file, .net')) {
        const show = e.classList.contains('net') ? scheme !== 'file' : e.classList.contains(`for-${scheme}`);
        e.hidden = !show;
    }
    $('of-host-hint').textContent = scheme === 'srt' ? '(empty: listen on all interfaces)'
        : scheme === 'rist' ? '(empty: listen)' : '';
    $('of-url').textContent = maskSecrets(buildURL());
}

function buildURL() {
    const f = values();
    // A RIST listener is written `rist://@:PORT` (librist's form).
    if (f.scheme === 'rist' && f.host.trim() === '') f.host = '@';
    return buildOutputURL(f).replace('rist://[@]', 'rist://@');
}

function clearErrors() {
    $('output-form-error').textContent = '';
    for (const e of $('output-form').querySelectorAll('.field-error')) e.textContent = '';
    for (const e of $('output-form').querySelectorAll('[aria-invalid]')) e.removeAttribute('aria-invalid');
}

function fieldError(fieldId, text) {
    const slot = $('output-form').querySelector(`.field-error[data-for="${fieldId}"]`);
    const input = $(fieldId);
    if (!slot || !input || input.closest('[hidden]')) {
        $('output-form-error').textContent = text;
        return;
    }
    slot.textContent = text;
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', slot.id || (slot.id = `err-${fieldId}`));
    input.focus();
}

/** Opens the form for output `output` (an object from the config) or for a new one (null). */
export function openOutputForm(output) {
    editing = output ? { originalId: output.id, original: output } : null;
    const f = parseOutputURL(output ? output.url : 'srt://:9000');
    if (f.scheme === 'rist' && f.host === '@') f.host = '';
    for (const k of FIELDS) $(`of-${k}`).value = f[k] ?? '';
    $('of-id').value = output ? output.id : '';
    $('of-sdp').value = output?.sdp || '';
    $('of-enabled').checked = output ? output.enabled !== false : true;
    $('output-dialog-title').textContent = output ? `Edit output ${output.id}` : 'Add output';
    clearErrors();
    showScheme();
    // Unchanged fields keep the URL as written (option order too): no needless restart of the output.
    if (editing) editing.builtURL = buildURL();
    $('output-dialog').showModal();
    $('of-id').focus();
}

async function save(ev) {
    ev.preventDefault();
    clearErrors();
    const id = $('of-id').value.trim();
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(id)) {
        fieldError('of-id', 'an id is 1–32 characters of A–Z a–z 0–9 _ -');
        return;
    }
    const scheme = $('of-scheme').value;
    const built = buildURL();
    const url = editing && built === editing.builtURL ? editing.original.url : built;
    const item = { ...(editing ? editing.original : {}), id, url, enabled: $('of-enabled').checked };
    const sdp = $('of-sdp').value.trim();
    if (scheme === 'rtp' && sdp) item.sdp = sdp;
    else delete item.sdp;
    $('of-save').disabled = true;
    let list;
    try {
        list = (await request('GET', '/api/v1/config/outputs')) || [];
    } catch (e) {
        $('output-form-error').textContent = `could not read the outputs: ${e.message}`;
        $('of-save').disabled = false;
        return;
    }
    let index = editing ? list.findIndex((o) => o.id === editing.originalId) : -1;
    if (index < 0) { index = list.length; list.push(item); } else list[index] = item;
    try {
        await request('PUT', '/api/v1/config/outputs', list);
        $('output-dialog').close();
        onSaved();
    } catch (e) {
        showServerError(e, index, scheme);
    } finally {
        $('of-save').disabled = false;
    }
}

/** The detail without a leading `path: ` (the field says where). */
function withoutPath(detail, path) {
    return path && detail.startsWith(`${path}: `) ? detail.slice(path.length + 2) : detail;
}

/** Puts a problem next to the field its path names: `outputs[i].url|id|sdp|enabled` of this output. */
function showServerError(e, index, scheme) {
    const path = e.path || '';
    const m = /^(?:outputs)?\[(\d+)\](?:\.(\w+))?/.exec(path.replace(/^\//, ''));
    const reason = e.problem.reason || e.message;
    if (e.status === 422 && m && Number(m[1]) === index) {
        const field = m[2] || '';
        const target = field === 'url' ? fieldForURLError(reason, scheme)
            : { id: 'of-id', sdp: 'of-sdp', enabled: 'of-enabled' }[field];
        if (target) { fieldError(target, withoutPath(e.message, path)); return; }
    }
    $('output-form-error').textContent = path ? `${path}: ${e.message}` : e.message;
}

/** Wires the form's events (once, at start-up). */
export function initOutputForm() {
    const form = $('output-form');
    form.addEventListener('input', () => { $('of-url').textContent = maskSecrets(buildURL()); });
    $('of-scheme').addEventListener('change', () => {
        const scheme = $('of-scheme').value;
        if (!$('of-port').value && DEFAULT_PORT[scheme]) $('of-port').value = DEFAULT_PORT[scheme];
        showScheme();
    });
    form.addEventListener('submit', save);
    $('of-cancel').addEventListener('click', () => $('output-dialog').close());
}
