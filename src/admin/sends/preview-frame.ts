import { esc } from '../view/layout';

/** Inside the preview: no script, no plugins, no forms, no network but images over https. */
export const PREVIEW_CSP = "default-src 'none'; script-src 'none'; object-src 'none'; form-action 'none'; style-src 'unsafe-inline'; img-src https: data:";

/**
 * An email's HTML shown in the admin page without letting it act there: a sandboxed frame with no
 * allow-* tokens (no scripts, a unique origin, no top navigation, no forms), the document carries its
 * own CSP, and it travels escaped inside the srcdoc attribute, so it is never markup of the admin page.
 */
export function previewFrame(html: string, title: string): string {
  const meta = `<meta http-equiv="Content-Security-Policy" content="${PREVIEW_CSP}">`;
  const doc = /<head[^>]*>/i.test(html) ? html.replace(/<head[^>]*>/i, (h) => h + meta) : meta + html;
  return `<iframe class="preview" sandbox="" referrerpolicy="no-referrer" title="${esc(title)}" srcdoc="${esc(doc)}"></iframe>`;
}
