// Rill's page: start-up, session (login / logout / password), the 1 s status poll with reconnection
// (backoff, the session fetched again after the box comes back), and the connection state in the header.
//
// Stable hooks for browser tests (ids and data attributes):
//   #login-form #login-password #login-submit #login-error #login-message     the login form (shown on any 401)
//   #logout #change-password #conn-state (data-conn="live|reconnecting|login") #app-error (role=alert)
//   #box-instance #box-version #box-uptime
//   #thumb-source #thumb-program (<img>, blob: URLs; the parent .thumb-box has data-unavailable="true" and
//     #thumb-<name>-reason the server's text when the API answers 503)
//   #meters > .meter[data-channel=N] .peak-value .rms-value (dBFS, one decimal, "-inf" for silence),
//     #lufs-momentary #lufs-short (one decimal, "—" when null), #meters-status ("no audio: …")
//   #card-source #card-encoders #card-program #card-stages: data-state="ok|warn|alarm", .badge text
//     OK / WARN / ALARM (LOST when the source signal is lost; #card-encoders data-state="off" + RELAY on a
//     gateway); figures in dd.<key> (source: dd.signal dd.resolution dd.fps dd.dropped …)
//   #card-stages tr[data-stage=NAME][data-state] .state .restarts
//   #card-output-<id>: data-state="ok|warn|alarm|off" ("off" + badge STOPPED: stopped by the operator),
//     data-scheme, dd.state dd.bitrate dd.latency dd.file (file://: last file closed),
//     .url-text (secrets shown as •••);
//     .peer[data-peer="<ip:port>"] (RIST: "rist")
//     with .rtt .loss .retrans .rate and svg.spark charts
//   buttons [data-action=start|stop|edit|delete][data-output=<id>] (delete: click twice within 5 s; the first
//     click sets data-confirm="true"), a[data-action=sdp][data-output=<id>][download] (rtp:// only)
//   #add-output, dialog #output-dialog, form #output-form: #of-id #of-scheme #of-host #of-port #of-mode #of-latency
//     #of-passphrase #of-streamid #of-profile #of-sdp #of-path #of-options #of-enabled, #of-url (the URL built),
//     #of-save #of-cancel, .field-error[data-for="of-port"] etc., #output-form-error
//   #event-log > li[data-kind=KIND][data-state] (newest first, at most 200)
//   #password-form #pw-current #pw-new #pw-submit (dialog #password-dialog), #password-error
//   #raw-toggle (aria-expanded; opens the raw JSON editor, closed by default), #raw-form #raw-section #raw-json
//     #raw-save #raw-reload (discards unsaved edits) #raw-error #raw-ok (raw JSON editor of every section)

import { getSession, login, logout, request, setUnauthorizedHandler } from './api.js';
import { setText, fmtDuration } from './dom.js';
import { updateSource, updateEncoders, updateProgram, updateStages } from './cards.js';
import { updateOutputs, setOutputHandlers, notePeer, noteRecording } from './outputs.js';
import { startThumbnails, stopThumbnails } from './thumbs.js';
import { startMeters, stopMeters, reconnectMeters } from './meters.js';
import { startEvents, stopEvents, eventsClosed } from './events.js';
import { initOutputForm, openOutputForm, setOutputFormSaved } from './output-form.js';
import { initRawEditor, loadSections, setRawSaved } from './raw-editor.js';
import { initPassword } from './password.js';
import { showError, clearError } from './notice.js';

/** Status poll period, ms. */
const POLL_MS = 1000;
/** Reconnection backoff: first wait and ceiling, ms. */
const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 10000;

const $ = (id) => document.getElementById(id);
let live = false;
let pollTimer = 0;
let failures = 0;
let eventsOk = true;
let pollSeq = 0;

function setConn(state, text) {
    const c = $('conn-state');
    c.dataset.conn = state;
    setText(c, text);
}

function showConn() {
    if (!live) return;
    if (failures > 0) setConn('reconnecting', 'reconnecting…');
    else if (!eventsOk) setConn('reconnecting', 'live (event stream reconnecting…)');
    else setConn('live', 'live');
}

function showLogin(message = '') {
    stopLive();
    document.body.dataset.view = 'login';
    setConn('login', 'logged out');
    $('login').hidden = false;
    $('main').hidden = true;
    $('nav').hidden = true;
    $('session-actions').hidden = true;
    for (const d of document.querySelectorAll('dialog[open]')) d.close();
    setText($('login-message'), message);
    $('login-password').value = '';
    $('login-password').focus();
}

function startLive() {
    document.body.dataset.view = 'live';
    $('login').hidden = true;
    $('main').hidden = false;
    $('nav').hidden = false;
    $('session-actions').hidden = false;
    setText($('login-error'), '');
    if (live) return;
    live = true;
    failures = 0;
    startThumbnails();
    startMeters();
    startEvents(onEventsState, pollSoon);
    loadSections();
    poll();
}

let soonTimer = 0;
/** A status poll shortly (events come in bursts: one poll for the burst). */
function pollSoon(kind, data) {
    const peer = data?.payload?.peer;
    const output = data?.output || data?.payload?.output;
    if (output && peer && (kind === 'OUTPUT_DISCONNECT' || kind === 'OUTPUT_CONNECT')) {
        notePeer(String(output), String(peer), kind === 'OUTPUT_CONNECT');
    }
    if (kind === 'RECORDING_END' && output) {
        const p = data.payload || {};
        noteRecording(String(output), String(p.path ?? ''), p['duration seconds'] ?? p.duration);
    }
    clearTimeout(soonTimer);
    soonTimer = setTimeout(() => { if (live && failures === 0) poll(); }, 150);
}

function stopLive() {
    live = false;
    clearTimeout(pollTimer);
    stopThumbnails();
    stopMeters();
    stopEvents();
}

function onEventsState(ok) {
    eventsOk = ok;
    showConn();
}

/** The box's version at the first status after page load (null before it). */
let pageVersion = null;
/** sessionStorage key: the version this tab already reloaded for (a reload happens once per version). */
const RELOADED_FOR = 'rill-reloaded-for';

/** After an upgrade the box serves new JavaScript: reload the page once when `box.version` changes. */
function reloadOnUpgrade(version) {
    if (typeof version !== 'string' || !version) return false;
    if (pageVersion === null) { pageVersion = version; return false; }
    if (version === pageVersion) return false;
    let already = null;
    try { already = sessionStorage.getItem(RELOADED_FOR); } catch { /* storage off: still reload once */ }
    if (already === version) return false;
    try { sessionStorage.setItem(RELOADED_FOR, version); } catch { /* ignore */ }
    pageVersion = version; // this page never asks twice
    location.reload();
    return true;
}

function render(status) {
    const now = Date.now();
    const box = status.box || {};
    if (reloadOnUpgrade(box.version)) return;
    setText($('box-instance'), box.instance || '—');
    setText($('box-version'), box.version || '—');
    setText($('box-uptime'), fmtDuration(box.uptimeSeconds));
    document.title = `Rill ${box.instance || ''}`.trim();
    updateSource(status, now);
    updateEncoders(status, now);
    updateProgram(status);
    updateStages(status, now);
    updateOutputs(status, now);
}

async function poll() {
    clearTimeout(pollTimer);
    if (!live) return;
    const seq = ++pollSeq;
    let wait = POLL_MS;
    try {
        const status = await request('GET', '/api/v1/status');
        if (!live || seq !== pollSeq) return;
        if (failures > 0) await recovered();
        if (!live) return;
        failures = 0;
        render(status);
        if (eventsClosed()) startEvents(onEventsState);
    } catch (e) {
        if (e.status === 401 || !live) return; // the login form is up
        failures += 1;
        wait = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.min(failures - 1, 4));
    }
    showConn();
    if (live && seq === pollSeq) pollTimer = setTimeout(poll, wait);
}

/** The box answers again (maybe restarted): fetch the session again, reopen the streams. */
async function recovered() {
    const session = await getSession().catch(() => undefined);
    if (session === null) { showLogin('The box restarted or the session ended; log in again.'); return; }
    startEvents(onEventsState);
    reconnectMeters();
    loadSections();
    clearError();
}

let retryUntil = 0;
function countdown() {
    const left = Math.ceil((retryUntil - Date.now()) / 1000);
    if (left > 0) {
        setText($('login-error'), `Too many attempts: try again in ${left} s.`);
        $('login-submit').disabled = true;
        setTimeout(countdown, 1000);
    } else {
        $('login-submit').disabled = false;
        setText($('login-error'), '');
    }
}

async function onLogin(ev) {
    ev.preventDefault();
    setText($('login-error'), '');
    setText($('login-message'), '');
    $('login-submit').disabled = true;
    try {
        await login($('login-password').value);
        $('login-password').value = '';
        $('login-submit').disabled = false;
        startLive();
    } catch (e) {
        $('login-submit').disabled = false;
        if (e.status === 429) {
            retryUntil = Date.now() + (e.retryAfter ?? 5) * 1000;
            countdown();
        } else if (e.status === 401) {
            // The server says why: "wrong password: …" or "no admin password is set: …".
            const d = String(e.problem?.detail || 'wrong password');
            setText($('login-error'), `${d.charAt(0).toUpperCase()}${d.slice(1)}${d.endsWith('.') ? '' : '.'}`);
        } else {
            setText($('login-error'), e.status ? e.message : 'The box does not answer; try again.');
        }
        $('login-password').focus();
    }
}

async function onLogout() {
    try { await logout(); } catch (e) { if (e.status !== 401) showError(`logout: ${e.message}`); }
    showLogin('Logged out.');
}

async function editOutput(id) {
    try {
        const list = (await request('GET', '/api/v1/config/outputs')) || [];
        const o = list.find((x) => x.id === id);
        if (o) openOutputForm(o);
        else showError(`output ${id} is not in the config any more`);
    } catch (e) {
        if (e.status !== 401) showError(`edit ${id}: ${e.message}`);
    }
}

/** Start-up: wire the page, then the session decides between the login form and the live page. */
async function boot() {
    while (true) {
        try {
            const session = await getSession();
            if (session) startLive();
            else showLogin();
            return;
        } catch {
            failures += 1;
            setConn('reconnecting', 'reconnecting…');
            const wait = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.min(failures - 1, 4));
            await new Promise((r) => setTimeout(r, wait));
        }
    }
}

function init() {
    setUnauthorizedHandler(() => showLogin('The session ended; log in again.'));
    $('login-form').addEventListener('submit', onLogin);
    $('logout').addEventListener('click', onLogout);
    $('add-output').addEventListener('click', () => openOutputForm(null));
    const refresh = () => { poll(); loadSections(); };
    setOutputHandlers({ edit: editOutput, changed: refresh });
    setOutputFormSaved(refresh);
    setRawSaved(refresh);
    initOutputForm();
    initRawEditor();
    initPassword(() => showLogin('Password changed: every session ended. Log in with the new password.'));
    boot();
}

init();
