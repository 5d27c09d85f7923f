import type { MailNotification } from '../inbox/notification.ts';

export type RenderedMail = { subject: string; html: string };

const escapes: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => escapes[c] ?? c);

/** A line that is a web address alone becomes a link to it (the account mails' links). */
function lineHtml(line: string): string {
  const escaped = escapeHtml(line);
  return /^https?:\/\/\S+$/.test(line) ? `<a href="${escaped}">${escaped}</a>` : escaped;
}

/**
 * The mail for a notification: its title as the subject, the body as HTML that reads as
 * plain text too. Dapr's bindings.smtp (1.18) sends exactly one `text/html` part
 * (components-contrib bindings/smtp: `msg.SetBody("text/html", ...)`), so no
 * multipart/alternative text part can go through it; mail clients that want text derive it.
 */
export function renderMail(notification: Pick<MailNotification, 'title' | 'body'>): RenderedMail {
  const paragraphs = notification.body
    .split(/\n{2,}/)
    .map((p) => `<p>${p.split('\n').map(lineHtml).join('<br>')}</p>`)
    .join('\n');
  const html = [
    '<!doctype html>',
    '<html><head><meta charset="utf-8"><title>',
    escapeHtml(notification.title),
    '</title></head><body>',
    `<h1>${escapeHtml(notification.title)}</h1>`,
    paragraphs,
    '<p>— Shop</p>',
    '</body></html>',
  ].join('\n');
  return { subject: notification.title, html };
}
