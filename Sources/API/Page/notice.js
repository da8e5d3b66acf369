// The page-wide error line (role=alert): failures of actions that have no form of their own.

/** How long an error stays visible, ms. */
const SHOW_MS = 12000;
let timer = 0;

/** Shows `text` in #app-error (announced by screen readers), hidden again after a while. */
export function showError(text) {
    const box = document.getElementById('app-error');
    box.textContent = text;
    box.hidden = false;
    clearTimeout(timer);
    timer = setTimeout(() => { box.hidden = true; }, SHOW_MS);
}

/** Hides the error line. */
export function clearError() {
    clearTimeout(timer);
    document.getElementById('app-error').hidden = true;
}
