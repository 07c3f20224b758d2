/**
 * Cross-site write protection. A page on another origin can make a browser send a "simple" POST (text
 * body, `mode: 'no-cors'`) to the gateway without any preflight; the response is opaque to the page, but
 * the write would happen. Browsers mark such requests: `Sec-Fetch-Site: cross-site | same-site` (all
 * current browsers) and an `Origin` header naming the page's origin. Pushgateway clients (Go, Python,
 * Java, prom-client, curl) send neither, so refusing these never affects them.
 *
 * Rule (for PUT/POST/DELETE of groups and the admin API): refused when `Sec-Fetch-Site` is present and is
 * neither `same-origin` nor `none`, or when `Origin` is present and its host differs from the `Host`
 * header (`Origin: null`, from sandboxed frames and `file:` pages, is refused too). The status page's own
 * delete button is same-origin and passes.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { AccrueError, RejectReason } from '../shared/model/errors';
import { clip } from '../shared/model/names';

export class CrossSiteError extends AccrueError {
  constructor(why: string) {
    super(RejectReason.crossSite, `cross-site request refused: ${why}`);
  }
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** `host[:port]` without a default port, lower case. */
function normalHost(host: string, defaultPort: string): string {
  const h = host.trim().toLowerCase();
  return h.endsWith(`:${defaultPort}`) ? h.slice(0, -defaultPort.length - 1) : h;
}

/** Why the request is cross-site, or undefined when it is not. */
export function crossSiteProblem(headers: IncomingHttpHeaders): string | undefined {
  const site = first(headers['sec-fetch-site'])?.trim().toLowerCase();
  if (site !== undefined && site !== 'same-origin' && site !== 'none')
    return `Sec-Fetch-Site is ${JSON.stringify(clip(site, 32))}; pushes from web pages must come from the gateway's own origin`;
  const origin = first(headers.origin);
  if (origin === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return `Origin ${JSON.stringify(clip(origin, 64))} is not the gateway's origin`;
  }
  const host = first(headers.host) ?? '';
  const port = url.protocol === 'https:' ? '443' : '80';
  // Behind a TLS-terminating load balancer the Host header has no port and the Origin is https.
  if (
    normalHost(url.host, port) !== normalHost(host, port) &&
    normalHost(url.host, port) !== normalHost(host, '80')
  )
    return `Origin ${JSON.stringify(clip(origin, 64))} is not the gateway's origin`;
  return undefined;
}

/** Throws `CrossSiteError` for a cross-site request. */
export function refuseCrossSite(headers: IncomingHttpHeaders): void {
  const p = crossSiteProblem(headers);
  if (p !== undefined) throw new CrossSiteError(p);
}
