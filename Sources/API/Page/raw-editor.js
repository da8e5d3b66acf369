// The fallback editor: any config section as raw JSON (GET/PUT /api/v1/config/<section>), with the
// server's 422 path and detail, 400 line/column and 409 (read-only file) shown above the buttons.
// Closed by default (sections may hold passphrases: #raw-toggle opens it). The operator's unsaved edits
// survive the background reloads (after start/stop/save/reconnect); #raw-reload discards them.

import { request } from './api.js';

const $ = (id) => document.getElementById(id);
let files = [];
let onSaved = () => {};
/** The text last put into (or saved from) the textarea: a textarea that differs holds unsaved edits. */
let loadedText = '';

/** Whether the textarea holds edits not yet saved. */
const dirty = () => $('raw-json').value !== loadedText;

/** What to do after a successful save (refresh the status). */
export function setRawSaved(handler) { onSaved = handler; }

function say(error, ok = '') {
    $('raw-error').textContent = error;
    $('raw-ok').textContent = ok;
    if (error) $('raw-json').setAttribute('aria-invalid', 'true');
    else $('raw-json').removeAttribute('aria-invalid');
}

/** Lists the sections (GET /api/v1/config/files) and loads the selected one unless it has unsaved edits. */
export async function loadSections() {
    try {
        files = (await request('GET', '/api/v1/config/files')) || [];
    } catch (e) {
        if (e.status !== 401) say(`could not list the sections: ${e.message}`);
        return;
    }
    const select = $('raw-section');
    const keep = select.value;
    select.replaceChildren(...files.map((f) => {
        const o = document.createElement('option');
        o.value = f.section;
        o.textContent = f.writable === false ? `${f.section} (read-only)` : f.section;
        return o;
    }));
    if (keep && files.some((f) => f.section === keep)) select.value = keep;
    await loadSection({ force: select.value !== keep });
}

/** Loads the selected section into the textarea; without `force`, unsaved edits are kept. */
async function loadSection({ force = true } = {}) {
    const section = $('raw-section').value;
    if (!section || (!force && dirty())) return;
    const f = files.find((x) => x.section === section);
    $('raw-file').textContent = f ? `${f.file}${f.writable === false ? ' — read-only' : ''}` : '';
    try {
        const doc = await request('GET', `/api/v1/config/${encodeURIComponent(section)}`);
        // The operator may have typed (or picked another section) while the answer was on its way.
        if (section !== $('raw-section').value || (!force && dirty())) return;
        loadedText = JSON.stringify(doc, null, 2);
        $('raw-json').value = loadedText;
        say('');
    } catch (e) {
        if (e.status !== 401) say(`could not load ${section}: ${e.message}`);
    }
}

async function save(ev) {
    ev.preventDefault();
    const section = $('raw-section').value;
    let doc;
    try {
        doc = JSON.parse($('raw-json').value);
    } catch (e) {
        say(`not valid JSON: ${e.message}`);
        return;
    }
    $('raw-save').disabled = true;
    const sent = $('raw-json').value;
    try {
        const answer = await request('PUT', `/api/v1/config/${encodeURIComponent(section)}`, doc);
        loadedText = sent; // saved: the reload that follows may replace it with the server's text
        say('', answer && answer.restartRequired ? `saved; takes effect when the box restarts` : 'saved');
        onSaved();
    } catch (e) {
        const p = e.problem || {};
        const where = p.path ? `${p.path}: ` : p.line ? `line ${p.line}, column ${p.column}: ` : '';
        say(`${e.status || ''} ${where && !String(e.message).startsWith(p.path) ? where : ''}${e.message}`.trim());
    } finally {
        $('raw-save').disabled = false;
    }
}

function toggle() {
    const open = $('raw-form').hidden;
    $('raw-form').hidden = !open;
    $('raw-toggle').setAttribute('aria-expanded', String(open));
    $('raw-toggle').textContent = open ? 'Hide raw JSON' : 'Show raw JSON';
    if (open) $('raw-section').focus();
}

/** Wires the editor's events (once, at start-up). */
export function initRawEditor() {
    $('raw-toggle').addEventListener('click', toggle);
    $('raw-section').addEventListener('change', () => loadSection());
    $('raw-reload').addEventListener('click', () => loadSection());
    $('raw-form').addEventListener('submit', save);
}
