import type { AlertPreview } from '../subscribers/preview.service';
import type { Preferences } from '../subscribers/self-service.repository';
import { DEFAULT_SEND_HOUR, scheduleLabel, timeZones } from '../subscribers/subscription-input';
import { escapeHtml as e, page } from './html';

/** Server-rendered pages of the public site. Every value is escaped; every token is URL-encoded. */

export interface FormValues {
  email?: string;
  topics?: string;
  frequency?: string;
  timezone?: string;
  sendHour?: string | number;
}

const enc = (token: string) => e(encodeURIComponent(token));

function errorText(errors: Record<string, string>, name: string): string {
  return errors[name] ? `<p class="error" id="${name}-error">${e(errors[name])}</p>` : '';
}
function invalid(errors: Record<string, string>, name: string): string {
  return errors[name] ? ` aria-invalid="true" aria-describedby="${name}-error ${name}-hint"` : ` aria-describedby="${name}-hint"`;
}

function summary(errors: Record<string, string>): string {
  const n = Object.keys(errors).length;
  const list = Object.values(errors).map((m) => `<li>${e(m.charAt(0).toUpperCase() + m.slice(1))}</li>`).join('');
  return n ? `<div class="alert err" role="alert"><strong>Please check ${n === 1 ? 'one field' : `${n} fields`}:</strong><ul style="margin:.25rem 0 0;padding-left:1.2rem">${list}</ul></div>` : '';
}

function frequencyField(value: string | undefined, errors: Record<string, string>): string {
  const options: [string, string][] = [
    ['instant', 'Instant'],
    ['daily', 'Daily'],
    ['weekly', 'Weekly'],
  ];
  const current = value ?? 'daily';
  return `<fieldset class="field" aria-describedby="frequency-hint"><legend>How often</legend><div class="choices">${options
    .map(([v, label]) => `<label class="choice"><input type="radio" name="frequency" value="${v}"${v === current ? ' checked' : ''}><span>${label}</span></label>`)
    .join('')}</div><p class="hint" id="frequency-hint">Instant: when a new batch of papers matches. Daily and weekly: one email at your hour (weekly on Mondays).</p>${errorText(errors, 'frequency')}</fieldset>`;
}

function whenFields(values: FormValues, errors: Record<string, string>): string {
  const hour = values.sendHour === undefined || values.sendHour === '' ? DEFAULT_SEND_HOUR : Number(values.sendHour);
  const tz = values.timezone || 'UTC';
  const hours = Array.from({ length: 24 }, (_, h) => `<option value="${h}"${h === hour ? ' selected' : ''}>${String(h).padStart(2, '0')}:00</option>`).join('');
  const zones = timeZones()
    .map((z) => `<option value="${e(z)}"${z === tz ? ' selected' : ''}>${e(z.replace(/_/g, ' '))}</option>`)
    .join('');
  return `<div class="row"><div class="field"><label for="sendHour">Send hour</label><select id="sendHour" name="sendHour"${invalid(errors, 'sendHour')}>${hours}</select>${errorText(errors, 'sendHour')}</div>
<div class="field"><label for="timezone">Time zone</label><select id="timezone" name="timezone" data-auto-timezone${invalid(errors, 'timezone')}>${zones}</select>${errorText(errors, 'timezone')}</div></div>
<p class="hint" id="sendHour-hint" style="margin-top:-1rem;margin-bottom:1.35rem"><span id="timezone-hint">Daily and weekly emails arrive at this local hour.</span></p>`;
}

const TOPIC_HINT = `One alert per line. Words must all appear; <code>"exact phrase"</code>, <code>OR</code>, <code>-exclude</code>, <code>title:</code> and <code>author:</code> narrow it down.`;

function topicsField(value: string | undefined, errors: Record<string, string>): string {
  return `<div class="field"><label for="topics">Your alerts</label>
<textarea id="topics" name="topics" rows="5" required maxlength="6000" spellcheck="false" placeholder="diffusion models&#10;&quot;neural collapse&quot;&#10;title:pruning -survey"${invalid(errors, 'topics')}>${e(value ?? '')}</textarea>
<p class="hint" id="topics-hint">${TOPIC_HINT}</p>${errorText(errors, 'topics')}</div>`;
}

export function previewHtml(previews: AlertPreview[] | null, days: number): string {
  const body =
    previews === null
      ? `<p class="muted">Type an alert and see which papers of the last ${days} days it would have caught.</p>`
      : previews.length === 0
        ? `<p class="muted">No alerts yet.</p>`
        : `<ol>${previews
            .map((p) => {
              const head = `<h3><span class="chip">${e(p.topic)}</span> ${p.error ? '' : `<span class="muted">${p.total} ${p.total === 1 ? 'paper' : 'papers'}</span>`}</h3>`;
              if (p.error) return `<li class="alert-preview">${head}<p class="error">${e(p.error)}</p></li>`;
              if (!p.papers.length) return `<li class="alert-preview">${head}<p class="muted">Nothing in the last ${days} days. Try fewer or broader words.</p></li>`;
              const items = p.papers
                .map((x) => `<li>${x.url ? `<a href="${e(x.url)}" rel="noopener noreferrer">${e(x.title)}</a>` : e(x.title)}<span class="why">${e(x.date)} · ${e(x.why)}</span></li>`)
                .join('');
              return `<li class="alert-preview">${head}<ul class="papers">${items}</ul></li>`;
            })
            .join('')}</ol>`;
  return `<h2>Preview <span class="muted" style="font-weight:400;font-size:.85rem">last ${days} days</span></h2><div id="preview-body" aria-live="polite">${body}</div>`;
}

export function subscribePage(opts: { values?: FormValues; errors?: Record<string, string>; previews?: AlertPreview[] | null; previewDays: number }): string {
  const values = opts.values ?? {};
  const errors = opts.errors ?? {};
  const form = `<section class="card" aria-labelledby="title">
<h1 id="title">New papers in your field, by email</h1>
<p class="lead">Tell Paperboy what you follow. When new papers match, you get a short email: title, abstract and why it matched.</p>
${summary(errors)}<form method="post" action="/subscribe" id="subscribe-form">
<div class="field"><label for="email">Email address</label><input id="email" name="email" type="email" autocomplete="email" inputmode="email" required maxlength="254" value="${e(values.email ?? '')}"${invalid(errors, 'email')}>
<p class="hint" id="email-hint">We send a confirmation link first. Nothing else arrives until you confirm.</p>${errorText(errors, 'email')}</div>
${topicsField(values.topics, errors)}
${frequencyField(values.frequency, errors)}
${whenFields(values, errors)}
<div class="actions"><button type="submit">Subscribe</button><button type="submit" class="secondary" name="action" value="preview" formnovalidate data-preview-button>Preview matches</button></div>
<p class="muted" style="margin-top:1.25rem">Every email has a one-click unsubscribe. You can change your alerts, pause, download or delete your data at any time from the link in each email.</p>
</form></section>`;
  const aside = `<aside class="card preview" id="preview" aria-label="Preview of matching papers">${previewHtml(opts.previews ?? null, opts.previewDays)}</aside>`;
  return page('Subscribe', `<div class="grid">${form}${aside}</div>`, { wide: true, script: true });
}

export function checkInboxPage(): string {
  return page(
    'Check your inbox',
    `<h1>Check your inbox</h1>
<p class="lead">If the address can receive email, a confirmation link is on its way. Open it and press <strong>Confirm</strong> to start your alerts.</p>
<p>Nothing arrived after a few minutes? Look in the spam folder, or <a href="/">subscribe again</a>; we resend the link a few times a day at most.</p>
<p class="muted">If you are already subscribed, confirming updates your alerts to the ones you just entered.</p>`,
  );
}

export function confirmPage(token: string): string {
  return page(
    'Confirm your alerts',
    `<h1>Confirm your alerts</h1><p class="lead">One more step: press the button to start receiving paper alerts.</p>
<form method="post" action="/confirm/${enc(token)}"><button type="submit">Confirm my alerts</button></form>
<p class="muted" style="margin-top:1.25rem">Did not ask for this? Close this page: nothing will be sent.</p>`,
  );
}

export function confirmedPage(manageToken: string): string {
  return page(
    'Subscribed',
    `<h1>You are subscribed</h1><p class="lead">Your alerts are on. The first email comes when new papers match.</p>
<p><a class="button secondary" href="/manage/${enc(manageToken)}">Manage your alerts</a></p>
<p class="muted">Every email also carries this link, and a one-click unsubscribe.</p>`,
  );
}

export function invalidLinkPage(): string {
  return page(
    'Link not valid',
    `<h1>This link is not valid</h1><p>It may be mistyped, already used up, or too old. The latest email from us has working links; or <a href="/">subscribe again</a>.</p>`,
  );
}

export function unsubscribeConfirmPage(token: string): string {
  return page(
    'Unsubscribe',
    `<h1>Unsubscribe from Paperboy?</h1><p class="lead">You will get no more paper alerts at this address.</p>
<form method="post" action="/unsubscribe/${enc(token)}"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`,
  );
}

export function unsubscribedPage(manageToken: string): string {
  return page(
    'Unsubscribed',
    `<h1>You are unsubscribed</h1><p class="lead">We will not email you again. Sorry to see you go.</p>
<p>Clicked by mistake?</p><form method="post" action="/manage/${enc(manageToken)}/resubscribe"><button type="submit" class="secondary">Re-subscribe with one click</button></form>
<p class="muted" style="margin-top:1.25rem">Your alerts are kept so re-subscribing restores them. To remove everything, <a href="/manage/${enc(manageToken)}">delete your data</a>.</p>`,
  );
}

export function resubscribedPage(manageToken: string): string {
  return page(
    'Welcome back',
    `<h1>Welcome back</h1><p class="lead">Your alerts are on again.</p><p><a class="button secondary" href="/manage/${enc(manageToken)}">Manage your alerts</a></p>`,
  );
}

export function erasedPage(): string {
  return page(
    'Data deleted',
    `<h1>Your data is deleted</h1><p class="lead">Your address, alerts, history and consent records are gone.</p>
<p class="muted">We keep only a one-way, keyed fingerprint of the address so that it is never added back by accident. Subscribing again through the form still works.</p>`,
  );
}

const date = (d: Date) => d.toISOString().slice(0, 10);

export function managePage(opts: {
  token: string;
  prefs: Preferences;
  values?: FormValues;
  errors?: Record<string, string>;
  notice?: string;
}): string {
  const { token, prefs } = opts;
  const errors = opts.errors ?? {};
  const values: FormValues = opts.values ?? {
    topics: prefs.topics.join('\n'),
    frequency: prefs.frequency,
    timezone: prefs.timezone,
    sendHour: prefs.sendHour,
  };
  const t = enc(token);
  const notice = opts.notice ? `<div class="alert ok" role="status">${e(opts.notice)}</div>` : '';
  const paused = prefs.pausedUntil && prefs.pausedUntil > new Date();
  if (prefs.status !== 'active') {
    return page(
      'Your alerts',
      `<h1>Your alerts</h1>${notice}<p class="lead">You are unsubscribed: we send nothing to <strong>${e(prefs.email)}</strong>.</p>
<form method="post" action="/manage/${t}/resubscribe"><button type="submit">Re-subscribe</button></form>
${dataSection(t)}`,
    );
  }
  const tomorrow = date(new Date(Date.now() + 24 * 3600_000));
  return page(
    'Your alerts',
    `<h1>Your alerts</h1>${notice}${summary(errors)}
<p class="lead">For <strong>${e(prefs.email)}</strong>: new papers ${e(scheduleLabel(prefs))}.${paused ? ` <strong>Paused until ${date(prefs.pausedUntil!)}.</strong>` : ''}</p>
<form method="post" action="/manage/${t}">
${topicsField(values.topics, errors)}
${frequencyField(values.frequency, errors)}
${whenFields(values, errors)}
<div class="actions"><button type="submit">Save changes</button></div>
</form>
<section class="section" aria-labelledby="pause-h"><h2 id="pause-h">Pause</h2>
<form method="post" action="/manage/${t}/pause"><div class="field"><label for="until">No emails until</label><input id="until" type="date" name="until" min="${tomorrow}" value="${paused ? date(prefs.pausedUntil!) : ''}"${invalid(errors, 'until')}>
<p class="hint" id="until-hint">Papers that match while you are away are skipped.</p>${errorText(errors, 'until')}</div>
<div class="actions" style="margin-top:0"><button type="submit" class="secondary">${paused ? 'Change pause' : 'Pause'}</button>${paused ? '<button type="submit" class="secondary" name="until" value="">Resume now</button>' : ''}</div></form></section>
<section class="section" aria-labelledby="unsub-h"><h2 id="unsub-h">Unsubscribe</h2>
<form method="post" action="/manage/${t}/unsubscribe"><p>Stop all emails. Your alerts are kept in case you come back.</p><button type="submit" class="secondary">Unsubscribe</button></form></section>
${dataSection(t)}`,
  );
}

function dataSection(t: string): string {
  return `<section class="section" aria-labelledby="data-h"><h2 id="data-h">Your data</h2>
<p><a href="/manage/${t}/data.json" download="paperboy-data.json">Download my data (JSON)</a></p>
<form method="post" action="/manage/${t}/delete"><p>Delete your address, alerts, history and consent records for good.</p>
<div class="field"><label class="muted" style="font-weight:400"><input type="checkbox" name="confirm" value="yes" required> I understand this cannot be undone</label></div>
<button type="submit" class="danger">Delete my data</button></form></section>`;
}

/** Shown instead of a form answer when a client sends too much, too fast. */
export function tooManyPage(seconds: number): string {
  return page('Slow down', `<h1>Too many requests</h1><p>Please wait ${seconds} seconds and try again.</p>`);
}
