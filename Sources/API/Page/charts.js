// Live sparklines: a bounded history of samples (the last 5 minutes) drawn as an SVG polyline.

const SVG_NS = 'http://www.w3.org/2000/svg';
/** Sparklines cover this many seconds. */
export const HISTORY_SECONDS = 300;

/** Samples `{t (ms), v}` of one figure, oldest first, at most HISTORY_SECONDS old. */
export class History {
    constructor() { this.points = []; }
    /** Adds a sample (null/NaN values are kept as gaps). */
    push(t, v) {
        this.points.push({ t, v: typeof v === 'number' && Number.isFinite(v) ? v : null });
        const oldest = t - HISTORY_SECONDS * 1000;
        while (this.points.length && this.points[0].t < oldest) this.points.shift();
    }
    /** The newest value (or null). */
    get last() { return this.points.length ? this.points[this.points.length - 1].v : null; }
    /** Whether any value in the last `seconds` is above 0. */
    anyPositiveWithin(seconds, now) {
        return this.points.some((p) => p.t >= now - seconds * 1000 && p.v > 0);
    }
}

/** A sparkline element (`<svg class="spark">`) with an accessible label; update it with drawSpark. */
export function makeSpark(label) {
    const svg = document.createElementNS(SVG_NS, 'svg');
    svg.setAttribute('class', 'spark');
    svg.setAttribute('viewBox', '0 0 300 40');
    svg.setAttribute('preserveAspectRatio', 'none');
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', label);
    const area = document.createElementNS(SVG_NS, 'polygon');
    area.setAttribute('class', 'spark-area');
    const line = document.createElementNS(SVG_NS, 'polyline');
    line.setAttribute('class', 'spark-line');
    line.setAttribute('vector-effect', 'non-scaling-stroke');
    svg.dataset.label = label;
    svg.append(area, line);
    return svg;
}

/** Draws `history` into `svg` (time axis: the last HISTORY_SECONDS up to `now`), scale from 0 to the max. */
export function drawSpark(svg, history, now, unit = '') {
    const pts = history.points.filter((p) => p.v !== null);
    const max = Math.max(1e-9, ...pts.map((p) => p.v));
    const span = HISTORY_SECONDS * 1000;
    const xy = pts.map((p) => {
        const x = 300 - ((now - p.t) / span) * 300;
        const y = 38 - (p.v / max) * 34;
        return `${x.toFixed(1)},${y.toFixed(1)}`;
    });
    const [area, line] = svg.children;
    line.setAttribute('points', xy.join(' '));
    const x0 = xy.length ? xy[0].split(',')[0] : '0';
    const x1 = xy.length ? xy[xy.length - 1].split(',')[0] : '0';
    area.setAttribute('points', xy.length ? `${x0},40 ${xy.join(' ')} ${x1},40` : '');
    const top = pts.length ? `, max ${max >= 100 ? max.toFixed(0) : max.toFixed(1)}${unit}` : '';
    svg.setAttribute('aria-label', `${svg.dataset.label}, last ${HISTORY_SECONDS / 60} minutes${top}`);
}
