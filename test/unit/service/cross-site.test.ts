import { crossSiteProblem } from '../../../service/cross-site';
import { contentSecurityPolicy } from '../../../service/page-policy';

describe('crossSiteProblem', () => {
  it.each<[string, Record<string, string>, boolean]>([
    ['no browser headers (curl, Go, Python clients)', { host: 'gw:9091' }, false],
    ['Sec-Fetch-Site: same-origin', { host: 'gw:9091', 'sec-fetch-site': 'same-origin' }, false],
    ['Sec-Fetch-Site: none (typed in the address bar)', { host: 'gw', 'sec-fetch-site': 'none' }, false],
    ['Sec-Fetch-Site: cross-site', { host: 'gw', 'sec-fetch-site': 'cross-site' }, true],
    ['Sec-Fetch-Site: same-site', { host: 'gw', 'sec-fetch-site': 'same-site' }, true],
    ['Sec-Fetch-Site with odd case', { host: 'gw', 'sec-fetch-site': 'Cross-Site' }, true],
    ['Origin equal to Host', { host: '127.0.0.1:9091', origin: 'http://127.0.0.1:9091' }, false],
    ['https Origin behind a TLS load balancer', { host: 'gw.example', origin: 'https://gw.example' }, false],
    ['Origin with default port in Host', { host: 'gw.example:443', origin: 'https://gw.example' }, false],
    ['foreign Origin', { host: 'gw.example', origin: 'https://evil.example' }, true],
    ['Origin on another port', { host: '127.0.0.1:9091', origin: 'http://127.0.0.1:8080' }, true],
    ['Origin: null (sandboxed frame, file: page)', { host: 'gw', origin: 'null' }, true],
    ['garbage Origin', { host: 'gw', origin: '%%%' }, true],
    ['huge Origin is clipped in the message', { host: 'gw', origin: `https://${'a'.repeat(100_000)}` }, true],
  ])('%s', (_n, headers, refused) => {
    const p = crossSiteProblem(headers);
    expect(p !== undefined).toBe(refused);
    if (p !== undefined) expect(p.length).toBeLessThan(300);
  });
});

describe('contentSecurityPolicy', () => {
  it('allows only self, plus the exact hash of each inline block the page carries', () => {
    const html = '<style>b{}</style><script>x()</script><script src="/a.js"></script>';
    const csp = contentSecurityPolicy(html);
    expect(csp).not.toMatch(/unsafe-inline/);
    expect(csp).toMatch(/frame-ancestors 'none'/);
    // sha256 of "x()" and "b{}", computed independently
    const h = (s: string) => require('node:crypto').createHash('sha256').update(s).digest('base64');
    expect(csp).toContain(`script-src 'self' 'sha256-${h('x()')}'`);
    expect(csp).toContain(`style-src 'self' 'sha256-${h('b{}')}'`);
  });

  it("is plain 'self' for a page without inline code", () => {
    expect(contentSecurityPolicy('<p>hi</p>')).toMatch(/script-src 'self'; style-src 'self';/);
  });
});
