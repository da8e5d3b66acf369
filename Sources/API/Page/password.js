// "Change password": POST /api/v1/password {current, new}; on success every session ends and the login
// form comes back with a message. 422 path "new" → next to the new password; 401/403 → next to the current one.

import { changePassword } from './api.js';

const $ = (id) => document.getElementById(id);
let onChanged = () => {};

function clear() {
    $('password-error').textContent = '';
    for (const e of $('password-form').querySelectorAll('.field-error')) e.textContent = '';
    for (const id of ['pw-current', 'pw-new']) $(id).removeAttribute('aria-invalid');
}

function fieldError(id, text) {
    const slot = $('password-form').querySelector(`.field-error[data-for="${id}"]`);
    slot.id = `err-${id}`;
    slot.textContent = text;
    $(id).setAttribute('aria-invalid', 'true');
    $(id).setAttribute('aria-describedby', slot.id);
    $(id).focus();
}

async function submit(ev) {
    ev.preventDefault();
    clear();
    const current = $('pw-current').value;
    const next = $('pw-new').value;
    if (!current) { fieldError('pw-current', 'enter the current password'); return; }
    $('pw-submit').disabled = true;
    try {
        await changePassword(current, next);
        $('password-form').reset();
        $('password-dialog').close();
        onChanged();
    } catch (e) {
        const path = e.path.replace(/^\//, '');
        if (e.status === 422 && (path === 'new' || path === '')) fieldError('pw-new', e.message);
        else if (e.status === 401 || e.status === 403 || path === 'current') fieldError('pw-current', e.message);
        else $('password-error').textContent = e.message;
    } finally {
        $('pw-submit').disabled = false;
    }
}

/** Wires the dialog; `changed()` runs after a successful change (back to the login form). */
export function initPassword(changed) {
    onChanged = changed;
    $('change-password').addEventListener('click', () => {
        clear();
        $('password-form').reset();
        $('password-dialog').showModal();
        $('pw-current').focus();
    });
    $('pw-cancel').addEventListener('click', () => $('password-dialog').close());
    $('password-form').addEventListener('submit', submit);
}
