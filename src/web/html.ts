import Handlebars from 'handlebars';

/** Escapes text for HTML element content and quoted attribute values. */
export const escapeHtml = (s: string): string => Handlebars.escapeExpression(s);

/** A minimal, accessible page shell for the few server-rendered pages of the public site. */
export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>${escapeHtml(title)} · Paperboy</title>
<style>
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2933;background:#f5f7fa;margin:0}
main{max-width:36rem;margin:3rem auto;padding:2rem;background:#fff;border-radius:12px;box-shadow:0 1px 3px rgba(0,0,0,.1)}
h1{font-size:1.5rem;margin-top:0}button{font:inherit;padding:.6rem 1.2rem;border-radius:8px;border:0;background:#3b4cca;color:#fff;cursor:pointer}
button:focus-visible{outline:3px solid #f0b429;outline-offset:2px}p.muted{color:#52606d;font-size:.9rem}
</style></head><body><main>${body}</main></body></html>`;
}
