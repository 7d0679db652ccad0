/**
 * The web inbox in a real Chromium (Debian's, headless) against a real daemon on 127.0.0.1:
 * what a person sees. Screenshots go to test-artifacts/web/.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { browserMissing, openBrowser, screenshot, type OpenBrowser } from '../helpers/browser.js';
import type { DaemonProcess } from '../helpers/daemon.js';
import { addAccount, loginUrl, startWebDaemon } from '../helpers/web.js';

const messageItem = (page: Page, text: string) => page.locator('li.message', { hasText: text });

describe('the web inbox in Chromium', { skip: browserMissing ?? false }, () => {
  let daemon: DaemonProcess;
  let base: string;
  let stop: () => Promise<void>;
  const browsers: OpenBrowser[] = [];
  const open = async (viewport?: { width: number; height: number }) => {
    const browser = await openBrowser(viewport);
    browsers.push(browser);
    return browser;
  };

  before(async () => {
    ({ daemon, base, stop } = await startWebDaemon());
    await daemon.cli(['name', 'ALICE', '/add']);
    await daemon.cli(['name', 'BOB', '/add']);
    await addAccount(daemon, 'alice', 'alice-pw');
  });
  after(async () => {
    for (const browser of browsers) await browser.close();
    await stop();
  });

  test('the owner opens the one-time URL and a message sent with the CLI appears without a reload', async () => {
    const { page } = await open();
    await page.goto(await loginUrl(daemon));
    await page.locator('#who', { hasText: 'owner' }).waitFor();
    assert.equal(new URL(page.url()).hash, '', 'the token is taken out of the address bar');
    await page.locator('#live.on').waitFor();
    // a marker that a reload would wipe
    await page.evaluate(() => Object.assign(globalThis, { notReloaded: true }));
    assert.equal((await daemon.cli(['send', 'ALICE', 'the build is green'])).code, 0);
    const item = messageItem(page, 'the build is green');
    await item.waitFor({ timeout: 5000 });
    assert.equal(await page.evaluate(() => (globalThis as { notReloaded?: boolean }).notReloaded), true);
    assert.equal(await item.locator('.state').textContent(), 'new');
    assert.match((await item.locator('.meta').textContent()) ?? '', /TESTHOST\s*→\s*ALICE/);
    assert.match(await page.title(), /^\(\d+\) netsend inbox$/);
    await screenshot(page, 'owner-live-message');
  });

  test("an urgent, titled message published by an account shows its title as a heading, its priority, and who really sent it", async () => {
    const { page } = await open();
    await page.goto(await loginUrl(daemon));
    await page.locator('#live.on').waitFor();
    await addAccount(daemon, 'monitor', 'monitor-pw', ['Server Operators']);
    const published = await fetch(`${base}/ALICE`, {
      method: 'POST',
      headers: { Authorization: `Basic ${Buffer.from('monitor:monitor-pw').toString('base64')}`, Title: 'Backup failed', Priority: 'urgent' },
      body: 'db1: the nightly backup did not finish',
    });
    assert.equal(published.status, 200);
    const item = messageItem(page, 'the nightly backup did not finish');
    await item.waitFor({ timeout: 5000 });
    assert.equal(await item.locator('h3.title').textContent(), 'Backup failed');
    assert.equal(await item.locator('.priority').textContent(), 'urgent');
    assert.equal(await item.locator('.priority').isVisible(), true);
    assert.match((await item.locator('.provenance').textContent()) ?? '', /sent by the account monitor/);
    assert.equal(await item.locator('.text').textContent(), 'db1: the nightly backup did not finish', 'the title is not glued onto the text');
    await screenshot(page, 'urgent-titled-from-account');
    // an ordinary message says nothing of its priority
    assert.equal((await daemon.cli(['send', 'ALICE', 'plain and normal'])).code, 0);
    await messageItem(page, 'plain and normal').waitFor({ timeout: 5000 });
    assert.equal(await messageItem(page, 'plain and normal').locator('.priority').isVisible(), false);
    assert.equal(await messageItem(page, 'plain and normal').locator('h3.title').isVisible(), false);
  });

  test('mark read, acknowledge and reply: the state shows on the page and stays after a reload; the reply reaches the sender', async () => {
    const { page } = await open();
    await page.goto(await loginUrl(daemon));
    await page.locator('#live.on').waitFor();
    assert.equal((await daemon.cli(['send', 'ALICE', '--from', 'BOB', 'lunch at noon?'])).code, 0);
    const item = messageItem(page, 'lunch at noon?');
    await item.waitFor({ timeout: 5000 });
    await item.getByRole('button', { name: 'Mark read' }).click();
    await messageItem(page, 'lunch at noon?').locator('.state', { hasText: 'read' }).waitFor();
    await messageItem(page, 'lunch at noon?').getByRole('button', { name: 'Acknowledge' }).click();
    await messageItem(page, 'lunch at noon?').locator('.state', { hasText: 'acknowledged' }).waitFor();
    await messageItem(page, 'lunch at noon?').getByRole('button', { name: 'Reply', exact: true }).click();
    await messageItem(page, 'lunch at noon?').locator('.reply-text').fill('yes, see you there');
    await messageItem(page, 'lunch at noon?').getByRole('button', { name: 'Send reply' }).click();
    await messageItem(page, 'lunch at noon?').locator('.reply-status', { hasText: 'Reply sent to BOB' }).waitFor();
    // the reply went to BOB (an alias here), from ALICE, the alias the message was for
    const reply = messageItem(page, 'yes, see you there');
    await reply.waitFor({ timeout: 5000 });
    assert.match((await reply.locator('.meta').textContent()) ?? '', /ALICE\s*→\s*BOB/);
    await screenshot(page, 'read-ack-reply');
    await page.reload();
    assert.equal(await messageItem(page, 'lunch at noon?').locator('.state').textContent(), 'acknowledged');
  });

  test('another account never sees messages that are not for it, in history or live', async () => {
    const { page } = await open({ width: 390, height: 780 }); // a phone
    await page.goto(base);
    await page.locator('#login-form').waitFor();
    await page.fill('#login-user', 'alice');
    await page.fill('#login-password', 'alice-pw');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.locator('#who', { hasText: 'alice' }).waitFor();
    await page.locator('#live.on').waitFor();
    assert.equal((await daemon.cli(['send', 'BOB', 'private to bob'])).code, 0);
    assert.equal((await daemon.cli(['send', 'ALICE', 'hello alice'])).code, 0);
    // the stream is in order: once alice's message is there, bob's would have been too
    await messageItem(page, 'hello alice').waitFor({ timeout: 5000 });
    assert.equal(await messageItem(page, 'private to bob').count(), 0);
    assert.equal(await messageItem(page, 'lunch at noon?').count(), 1, 'a message to ALICE from before is in her history');
    assert.equal(await messageItem(page, 'yes, see you there').count(), 0, "the reply to BOB is not in alice's history");
    await screenshot(page, 'alice-phone');
    await page.fill('#search', 'private');
    await page.locator('#empty').waitFor({ state: 'visible' });
    assert.equal(await messageItem(page, 'private to bob').count(), 0);
    // an ordinary account cannot send (the original's remote-call rules) or manage aliases
    assert.equal(await page.locator('#compose').isVisible(), false);
    assert.equal(await page.locator('#aliases-panel').isVisible(), false);
    await screenshot(page, 'alice-phone-search');
  });

  test('the one-time URL works once: a second browser opening it gets the login form', async () => {
    const url = await loginUrl(daemon);
    const first = await open();
    await first.page.goto(url);
    await first.page.locator('#who', { hasText: 'owner' }).waitFor();
    const second = await open();
    await second.page.goto(url);
    await second.page.locator('#login-error', { hasText: 'already used' }).waitFor();
    assert.equal(await second.page.locator('#app').isVisible(), false);
    await screenshot(second.page, 'one-time-url-used');
  });

  test('compose and alias management: the owner adds an alias, sends to it, and deletes it', async () => {
    const { page } = await open();
    await page.goto(await loginUrl(daemon));
    await page.locator('#live.on').waitFor();
    await page.locator('#aliases-panel summary').click();
    await page.fill('#alias-name', 'pager');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.locator('#aliases li', { hasText: 'PAGER' }).waitFor();
    await page.fill('#compose-to', 'pager');
    await page.fill('#compose-text', 'composed on the page');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await page.locator('#compose-status', { hasText: 'Sent to pager' }).waitFor();
    await messageItem(page, 'composed on the page').waitFor({ timeout: 5000 });
    await screenshot(page, 'compose-aliases');
    await page.getByRole('button', { name: 'Delete PAGER' }).click();
    await page.locator('#alias-status', { hasText: 'PAGER deleted' }).waitFor();
    assert.equal(await page.locator('#aliases li', { hasText: 'PAGER' }).count(), 0);
    const names = JSON.parse((await daemon.cli(['name', '--json'])).stdout) as Array<{ name: string }>;
    assert.ok(!names.some((a) => a.name === 'PAGER'));
  });

  test('another page in the same browser cannot make the logged-in inbox send (CSRF)', async () => {
    const { context, page } = await open();
    await page.goto(await loginUrl(daemon));
    await page.locator('#live.on').waitFor();
    // a page from elsewhere (about:blank is another origin) in the browser that holds the owner's cookie
    const attacker = await context.newPage();
    await attacker.setContent('<p>elsewhere</p>');
    await attacker.evaluate(`(async () => {
      const body = JSON.stringify({ to: 'ALICE', text: 'forged by another page' });
      await fetch('${base}/api/send', { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'Content-Type': 'text/plain' }, body }).catch(() => {});
      await fetch('${base}/api/send', { method: 'POST', credentials: 'include', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': 'guess' }, body }).catch(() => {});
      const form = document.createElement('form');
      form.method = 'POST';
      form.action = '${base}/ALICE';
      form.enctype = 'text/plain';
      const field = document.createElement('input');
      field.name = 'forged by a form';
      form.append(field);
      document.body.append(form);
      form.submit();
    })()`);
    await attacker.waitForLoadState();
    // the owner's own page, which holds the token, can send; then nothing forged is there
    await page.fill('#compose-to', 'ALICE');
    await page.fill('#compose-text', 'sent by the page itself');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await messageItem(page, 'sent by the page itself').waitFor({ timeout: 5000 });
    await page.reload();
    await messageItem(page, 'sent by the page itself').waitFor();
    assert.equal(await messageItem(page, 'forged by').count(), 0);
    const inbox = (await daemon.cli(['inbox', '--json'])).stdout;
    assert.ok(!inbox.includes('forged by'), inbox);
  });

  test('a message cannot inject markup into the page', async () => {
    const { page } = await open();
    await page.goto(await loginUrl(daemon));
    await page.locator('#live.on').waitFor();
    assert.equal((await daemon.cli(['send', 'ALICE', '<img src=x onerror="document.title=1"><b>bold</b>'])).code, 0);
    const item = messageItem(page, '<b>bold</b>');
    await item.waitFor({ timeout: 5000 });
    assert.equal(await item.locator('img, b').count(), 0);
  });
});
