// Signs the context a portal embeds a Rapport survey in. Node 18 or later, no dependencies.
import { createHmac } from 'node:crypto';

export function signContext(secret, { survey, account, matter = '', name = '', email, expires }) {
  const message = ['rapport-portal-v1', survey, account, matter, name, email, String(expires)].join('\n');
  return createHmac('sha256', Buffer.from(secret, 'hex')).update(message, 'utf8').digest('hex');
}
