// The fallback editor: any config section as raw JSON (GET/PUT /api/v1/config/<section>), with the
// server's 422 path and detail, 400 line/column and 409 (read-only file) shown above the buttons.

import { request } from './api.js';

const $ = (id) => document.getElementById(id);
let files = [];
let onSaved = () => {};

/** What to do after a successful save (refresh the status). */
export function setRawSaved(handler) { onSaved = handler; }

function say(error, ok = '') {
    $('raw-error').textContent = error;
    $('raw-ok').textContent = ok;
    $('raw-json').toggleAttribute('aria-invalid', Boolean(error));
}

/** Lists the sections (GET /api/v1/config/files) and loads the selected one. */
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
    await loadSection();
}

async function loadSection() {
    const section = $('raw-section').value;
    if (!section) return;
    const f = files.find((x) => x.section === section);
    $('raw-file').textContent = f ? `${f.file}${f.writable === false ? ' — read-only' : ''}` : '';
    try {
        const doc = await request('GET', `/api/v1/config/${encodeURIComponent(section)}`);
        $('raw-json').value = JSON.stringify(doc, null, 2);
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
    try {
        const answer = await request('PUT', `/api/v1/config/${encodeURIComponent(section)}`, doc);
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

/** Wires the editor's events (once, at start-up). */
export function initRawEditor() {
    $('raw-section').addEventListener('change', loadSection);
    $('raw-load').addEventListener('click', loadSection);
    $('raw-form').addEventListener('submit', save);
}
