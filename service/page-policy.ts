/**
 * The one Content-Security-Policy (and friends) of every HTML page the service serves. Scripts and
 * styles may come only from the service itself (`'self'`), never inline by default; an inline
 * `<script>` / `<style>` block that the page still carries is allowed by its SHA-256 hash, computed from
 * the HTML actually sent (so a block the renderer did not write, if one were ever injected, has no hash
 * and does not run). No framing (`frame-ancestors 'none'`), no plugins, no base or form targets.
 */
import { createHash } from 'node:crypto';

const INLINE = /<(script|style)(?:\s[^>]*)?>([\s\S]*?)<\/\1>/gi;

function hashes(html: string, tag: 'script' | 'style'): string {
  let out = '';
  for (const m of html.matchAll(INLINE)) {
    if (m[1]!.toLowerCase() !== tag || m[2] === '') continue;
    out += ` 'sha256-${createHash('sha256').update(m[2]!, 'utf8').digest('base64')}'`;
  }
  return out;
}

/** The Content-Security-Policy for `html`. */
export function contentSecurityPolicy(html: string): string {
  return [
    "default-src 'none'",
    `script-src 'self'${hashes(html, 'script')}`,
    `style-src 'self'${hashes(html, 'style')}`,
    "img-src 'self' data:",
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
  ].join('; ');
}

/** Headers for an HTML page: the CSP above, no sniffing, no framing (old browsers), no referrer. */
export function pageHeaders(html: string): Record<string, string> {
  return {
    'content-security-policy': contentSecurityPolicy(html),
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
  };
}
