/**
 * The status page in headless Chromium: hostile label values render as text (no script runs), and the
 * delete button removes exactly its group.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { http, type Running, startService } from './service-support';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

describe('status page in Chromium', () => {
  let browser: BrowserContext;
  let profile: string;
  let svc: Running;
  // One fresh browser profile per test, closed before the server so no keep-alive connection lingers.
  beforeEach(async () => {
    profile = mkdtempSync(join(tmpdir(), 'accrue-chromium-'));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: CHROMIUM_ARGS,
      timeout: 30_000,
    });
    browser.setDefaultTimeout(10_000);
    svc = await startService();
  });
  afterEach(async () => {
    await browser?.close();
    await svc?.stop();
    rmSync(profile, { recursive: true, force: true });
  });

  it('escapes hostile values and deletes a group with its button', async () => {
    const evil = '<img src=x onerror="window.__pwned=1">"\'/\n';
    const evilPath = `/metrics/job/web/evil@base64/${Buffer.from(evil).toString('base64url')}`;
    expect((await http(svc.base, 'PUT', evilPath, '# TYPE e gauge\ne 1\n')).status).toBe(200);
    expect((await http(svc.base, 'PUT', '/metrics/job/keep', '# TYPE k gauge\nk 1\n')).status).toBe(200);
    const page = await browser.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(`${svc.base}/`);
    expect(await page.evaluate('typeof window.__pwned')).toBe('undefined');
    const sections = page.locator('section.group');
    expect(await sections.count()).toBe(2);
    const evilSection = sections.filter({ hasText: 'onerror' });
    expect(await evilSection.locator('.label').allTextContents()).toContain(`evil="${evil}"`);
    await Promise.all([page.waitForEvent('load'), evilSection.locator('button.delete').click()]);
    expect(await page.locator('section.group').count()).toBe(1);
    expect(await page.locator('section.group').first().textContent()).toContain('job="keep"');
    const groups = (await svc.store.snapshot()).groups.map((g) => ({ ...g.key }));
    expect(groups).toEqual([{ job: 'keep' }]);
    expect(dialogs).toEqual([]);
    await page.close();
  });

  it('hides delete buttons without push credentials when push auth is on', async () => {
    await svc.stop();
    svc = await startService({ pushAuth: 'basic:admin:pw' });
    expect(
      (
        await http(svc.base, 'PUT', '/metrics/job/x', 'x 1\n', {
          authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}`,
        })
      ).status,
    ).toBe(200);
    const anon = await browser.newPage();
    await anon.goto(`${svc.base}/`);
    expect(await anon.locator('button.delete').count()).toBe(0);
    await anon.close();
    const authed = await browser.newPage();
    // The status page shows buttons only to a request that carries valid push credentials; the page's
    // fetch(DELETE) carries the same header.
    await authed.setExtraHTTPHeaders({
      authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}`,
    });
    await authed.goto(`${svc.base}/`);
    expect(await authed.locator('button.delete').count()).toBe(1);
    await Promise.all([authed.waitForEvent('load'), authed.locator('button.delete').click()]);
    expect(await authed.locator('section.group').count()).toBe(0);
    await authed.close();
  });
});
