/** Identity rules for papers: one record per arXiv id (versions folded), else per normalised title. */

const NEW_STYLE = /^(\d{4}\.\d{4,5})(v\d+)?$/;
const OLD_STYLE = /^([a-z-]+(?:\.[A-Z]{2})?\/\d{7})(v\d+)?$/;

/** "2401.01234v2" → "2401.01234"; "arXiv:hep-th/9901001" → "hep-th/9901001"; anything else → null. */
export function normalizeArxivId(raw: string | null | undefined): string | null {
  if (!raw) return null;
  const s = raw.trim().replace(/^arxiv:/i, '');
  const m = NEW_STYLE.exec(s) ?? OLD_STYLE.exec(s);
  return m ? m[1] : null;
}

/** Finds an arXiv id in arxiv.org/abs|pdf links and huggingface.co/papers links. */
export function arxivIdFromUrl(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const u = new URL(url);
    const host = u.hostname.replace(/^www\./, '');
    const m = /^\/(?:abs|pdf|papers)\/(.+?)(?:\.pdf)?\/?$/.exec(u.pathname);
    if (!m || !['arxiv.org', 'export.arxiv.org', 'huggingface.co'].includes(host)) return null;
    return normalizeArxivId(m[1]);
  } catch {
    return null;
  }
}

/** Case, accents, punctuation and spacing do not make a different paper. */
export function titleKey(title: string): string {
  return title
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** Only http(s) links are kept (they end up in emails). */
export function safeHttpUrl(raw: string | null | undefined): string | null {
  if (!raw) return null;
  try {
    const u = new URL(raw.trim());
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.toString() : null;
  } catch {
    return null;
  }
}

/** Where a paper's title links to: its own URL, else its arXiv page, else an arXiv title search. */
export function paperLink(p: { url?: string | null; arxivId?: string | null; title: string }): string {
  if (p.url) return p.url;
  if (p.arxivId) return `https://arxiv.org/abs/${p.arxivId}`;
  return `https://arxiv.org/search/?searchtype=title&query=${encodeURIComponent(p.title)}`;
}
