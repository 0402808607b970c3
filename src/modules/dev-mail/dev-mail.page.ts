import { DEV_MAILBOX_SIZE, type DevMail } from '../../common/mail/dev-mailbox';

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Mail text carries what users typed (names), so everything written into the page is escaped. */
const escape = (text: string) => text.replace(/[&<>"']/g, (char) => ENTITIES[char]!);

/**
 * The development mailbox as a plain page: newest first, each mail's links clickable, no script
 * and no style (the API's Content-Security-Policy allows neither, and none is needed).
 */
export function devMailPage(mails: readonly DevMail[]): string {
  const items = mails.map(
    (mail) => `<article>
<h2>${escape(mail.subject)}</h2>
<p>To <strong>${escape(mail.to)}</strong>, <time datetime="${mail.sentAt}">${mail.sentAt}</time></p>
${mail.links.length > 0 ? `<ul>${mail.links.map((link) => `<li><a href="${escape(link)}">${escape(link)}</a></li>`).join('')}</ul>` : ''}
<pre>${escape(mail.text)}</pre>
</article>`,
  );
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Gatehouse: development mail</title></head>
<body>
<main>
<h1>Development mail</h1>
<p>Mails are kept here, not sent, because SMTP_URL is unset (development only; the latest ${DEV_MAILBOX_SIZE} are kept). The same list as JSON: <a href="/dev/mail.json">/dev/mail.json</a>.</p>
${items.length > 0 ? items.join('\n<hr>\n') : '<p>No mail yet.</p>'}
</main>
</body>
</html>
`;
}
