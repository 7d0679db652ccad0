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

/** The computed colour and background of an element, as the browser paints them. */
const colours = (page: Page, selector: string) =>
  page.locator(selector).evaluate((element) => {
    const style = (globalThis as unknown as { getComputedStyle(e: unknown): { color: string; backgroundColor: string } }).getComputedStyle(element);
    return { color: style.color, background: style.backgroundColor };
  });

/** Whether anything sticks out sideways (a page that scrolls horizontally on a phone is broken). */
const overflowsSideways = (page: Page): Promise<boolean> => page.evaluate('document.documentElement.scrollWidth > window.innerWidth');

/** Whether the element is the one with the keyboard focus. */
const focused = (page: Page, selector: string): Promise<boolean> =>
  page.locator(selector).evaluate((element) => element === (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement);

/** Whether `selector` has the focus within 2 s: after a redraw the page gives the focus back a moment later. */
async function focusedSoon(page: Page, selector: string): Promise<boolean> {
  for (let i = 0; i < 20; i++) {
    if (await focused(page, selector)) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

/** A text of exactly `length` characters, in lines, as a long log or a pasted report would be. */
function longText(length: number): string {
  const lines: string[] = [];
  for (let i = 1; lines.join('\n').length < length; i++) lines.push(`line ${i}: the nightly job wrote this line to say how far it got`);
  return `${lines.join('\n').slice(0, length - 8)}\nTHE END`;
}

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
  /** Closes browsers a test is done with: each holds connections, and the web allows 32 per address. */
  const done = async (...finished: OpenBrowser[]) => {
    for (const browser of finished) {
      browsers.splice(browsers.indexOf(browser), 1);
      await browser.close();
    }
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
    // and is told why, where the compose box would be, in the access rules' words
    assert.equal(await page.locator('#compose-off').isVisible(), true);
    assert.equal(
      await page.locator('#compose-off').textContent(),
      'Sending is off for this account. Remote calls on a standalone server need membership in Administrators or Server Operators.',
    );
    assert.equal(await page.getByRole('button', { name: 'Reply', exact: true }).count(), 0, 'no Reply either');
    await screenshot(page, 'alice-phone-search');
  });

  test('the one-time URL works once: a second browser opening it gets the login form', async () => {
    const url = await loginUrl(daemon);
    const first = await open();
    await first.page.goto(url);
    await first.page.locator('#who', { hasText: 'owner' }).waitFor();
    const second = await open();
    await second.page.goto(url);
    await second.page.locator('#login-status.is-error[role="alert"]', { hasText: 'already used' }).waitFor();
    assert.equal(await second.page.locator('#app').isVisible(), false);
    await screenshot(second.page, 'one-time-url-used');
  });

  test('compose and alias management: the owner adds an alias, sends to it, and deletes it', async () => {
    const { page } = await open();
    await page.goto(await loginUrl(daemon));
    await page.locator('#live.on').waitFor();
    // open beside the inbox on a wide screen, folded on a narrow one
    if ((await page.locator('#aliases-panel[open]').count()) === 0) await page.locator('#aliases-panel summary').click();
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
  test('a failed action shows as an error (its colour, "Error:", the status, role=alert) and a success as a success, in light and dark', async () => {
    const browser = await open({ width: 1280, height: 900 });
    const { page } = browser;
    await page.goto(await loginUrl(daemon));
    await page.locator('#live.on').waitFor();
    const status = page.locator('#compose-status');
    const sendTo = async (to: string, text: string) => {
      await page.fill('#compose-to', to);
      await page.fill('#compose-text', text);
      await page.getByRole('button', { name: 'Send', exact: true }).click();
    };
    // a name that is no alias here and that no name source knows: NERR_NameNotFound
    await sendTo('NOBODY', 'is anyone there?');
    await page.locator('#compose-status.is-error').waitFor();
    assert.equal(await status.getAttribute('role'), 'alert');
    assert.match((await status.textContent()) ?? '', /^Error: .*NOBODY.* \(NERR_NameNotFound 2273\)$/);
    const lightError = await colours(page, '#compose-status');
    await screenshot(page, 'compose-error');
    await sendTo('ALICE', 'now to someone who is there');
    await page.locator('#compose-status.is-ok', { hasText: 'Sent to ALICE.' }).waitFor();
    assert.equal(await status.getAttribute('role'), 'status');
    assert.doesNotMatch((await status.textContent()) ?? '', /Error/);
    const lightOk = await colours(page, '#compose-status');
    assert.notEqual(lightOk.color, lightError.color, 'an error is not painted as a success');
    assert.equal(lightOk.background, 'rgba(0, 0, 0, 0)');
    assert.notEqual(lightError.background, 'rgba(0, 0, 0, 0)', 'an error stands on a tint of its own');
    // the aliases' status line follows the same rule
    await page.fill('#alias-name', 'bad*name');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.locator('#alias-status.is-error[role="alert"]', { hasText: /^Error: / }).waitFor();
    // in dark mode an error is its own colour too, and differs from the light one (readable on a dark card)
    await page.emulateMedia({ colorScheme: 'dark' });
    await sendTo('NOBODY', 'still nobody?');
    await page.locator('#compose-status.is-error').waitFor();
    const darkError = await colours(page, '#compose-status');
    assert.notEqual(darkError.color, lightError.color);
    assert.notEqual(darkError.background, lightError.background);
    await screenshot(page, 'compose-error-dark');
    // a wrong password at the login form is an error as well
    const other = await open({ width: 390, height: 780 });
    await other.page.goto(base);
    await other.page.fill('#login-user', 'alice');
    await other.page.fill('#login-password', 'not her password');
    await other.page.getByRole('button', { name: 'Log in' }).click();
    await other.page.locator('#login-status.is-error[role="alert"]', { hasText: /^Error: The user name, password or token is incorrect\./ }).waitFor();
    await screenshot(other.page, 'login-error');
    await done(browser, other);
  });

  test('Reply is offered only where a reply can go: not for a sender name that is no alias here and came from no other host', async () => {
    const browser = await open();
    const { page } = browser;
    await page.goto(await loginUrl(daemon));
    await page.locator('#live.on').waitFor();
    assert.equal((await daemon.cli(['send', 'ALICE', '--from', 'GHOST', 'a note from a name nobody holds'])).code, 0);
    assert.equal((await daemon.cli(['send', 'ALICE', '--from', 'BOB', 'a note from bob, who is an alias here'])).code, 0);
    const ghost = messageItem(page, 'a note from a name nobody holds');
    const bob = messageItem(page, 'a note from bob, who is an alias here');
    await bob.waitFor({ timeout: 5000 });
    await ghost.waitFor();
    assert.equal(await ghost.getByRole('button', { name: 'Reply', exact: true }).count(), 0);
    assert.equal(await bob.getByRole('button', { name: 'Reply', exact: true }).count(), 1);
    // the same after a reload (the list, not only the live stream, says so)
    await page.reload();
    await messageItem(page, 'a note from bob, who is an alias here').waitFor();
    assert.equal(await messageItem(page, 'a note from a name nobody holds').getByRole('button', { name: 'Reply', exact: true }).count(), 0);
    assert.equal(await messageItem(page, 'a note from bob, who is an alias here').getByRole('button', { name: 'Reply', exact: true }).count(), 1);
    await done(browser);
  });

  test('a 32,767-character message is drawn collapsed, with a Show all / Show less button that works from the keyboard', async () => {
    const browser = await open();
    const { page } = browser;
    await page.goto(await loginUrl(daemon));
    await page.locator('#live.on').waitFor();
    const text = longText(32_767);
    assert.equal(text.length, 32_767);
    assert.equal((await daemon.cli(['send', 'ALICE', text])).code, 0);
    const item = messageItem(page, 'line 1: the nightly job');
    await item.waitFor({ timeout: 5000 });
    const box = item.locator('.text');
    const toggle = item.getByRole('button', { name: /^Show all/ });
    assert.match((await toggle.textContent()) ?? '', /^Show all \(32\D?767 characters\)$/, 'the size in the reader\'s own digits');
    assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
    assert.equal(await toggle.getAttribute('aria-controls'), await box.getAttribute('id'));
    const collapsed = (await item.boundingBox())?.height ?? Infinity;
    assert.ok(collapsed < 450, `the card is ${collapsed} px tall collapsed`);
    assert.equal(await box.textContent(), text, 'the whole text is there, only folded');
    await screenshot(page, 'long-message-collapsed');
    // the keyboard: Tab reaches it (a real button), Enter opens, Space folds
    await item.locator('.from').click();
    await page.keyboard.press('Tab');
    assert.equal(await focused(page, 'li.message:has-text("line 1: the nightly job") .toggle-text'), true, 'Tab from the message reaches the toggle first');
    await page.keyboard.press('Enter');
    const less = item.getByRole('button', { name: 'Show less' });
    assert.equal(await less.getAttribute('aria-expanded'), 'true');
    const expanded = (await box.boundingBox())?.height ?? 0;
    assert.ok(expanded > 5000, `the whole text is ${expanded} px tall`);
    // drawn again (marked read, from the keyboard) it stays open, and the focus stays in the message
    await page.keyboard.press('Tab');
    assert.equal(await focused(page, 'li.message:has-text("line 1: the nightly job") .read'), true, 'Tab goes on to Mark read');
    await page.keyboard.press('Enter');
    await item.locator('.state', { hasText: 'read' }).waitFor();
    assert.equal(await item.locator('.toggle-text').getAttribute('aria-expanded'), 'true');
    assert.equal(await focusedSoon(page, 'li.message:has-text("line 1: the nightly job") .ack'), true, 'Mark read is gone: the focus is on Acknowledge');
    await page.keyboard.press('Shift+Tab');
    assert.equal(await focused(page, 'li.message:has-text("line 1: the nightly job") .toggle-text'), true);
    await page.keyboard.press('Space');
    assert.equal(await item.locator('.toggle-text').getAttribute('aria-expanded'), 'false');
    assert.ok(((await box.boundingBox())?.height ?? Infinity) < 300);
    // a short message has no toggle
    assert.equal(await messageItem(page, 'now to someone who is there').locator('.toggle-text').isVisible(), false);
    await done(browser);
  });

  test('Ctrl+Enter sends from the compose box, Cmd+Enter from the reply box; a plain Enter is a new line', async () => {
    const browser = await open();
    const { page } = browser;
    await page.goto(await loginUrl(daemon));
    await page.locator('#live.on').waitFor();
    await page.fill('#compose-to', 'ALICE');
    await page.fill('#compose-text', 'sent with the keyboard');
    await page.locator('#compose-text').press('Enter');
    assert.equal(await page.locator('#compose-text').inputValue(), 'sent with the keyboard\n', 'Enter alone is a new line');
    assert.equal(await page.locator('#compose-status').textContent(), '', 'and sends nothing');
    await page.locator('#compose-text').pressSequentially('second line');
    await page.locator('#compose-text').press('Control+Enter');
    await page.locator('#compose-status.is-ok', { hasText: 'Sent to ALICE.' }).waitFor();
    assert.equal(await page.locator('#compose-text').inputValue(), '');
    await messageItem(page, 'second line').waitFor({ timeout: 5000 });
    assert.equal(await messageItem(page, 'second line').locator('.text').textContent(), 'sent with the keyboard\nsecond line');
    assert.equal((await daemon.cli(['send', 'ALICE', '--from', 'BOB', 'answer me from the keyboard'])).code, 0);
    const item = messageItem(page, 'answer me from the keyboard');
    await item.waitFor({ timeout: 5000 });
    await item.getByRole('button', { name: 'Reply', exact: true }).click();
    await item.locator('.reply-text').fill('answered with cmd+enter');
    await item.locator('.reply-text').press('Meta+Enter');
    await item.locator('.reply-status.is-ok', { hasText: 'Reply sent to BOB.' }).waitFor();
    await messageItem(page, 'answered with cmd+enter').waitFor({ timeout: 5000 });
    assert.match((await messageItem(page, 'answered with cmd+enter').locator('.meta').textContent()) ?? '', /ALICE\s*→\s*BOB/);
    await done(browser);
  });

  test('layout: at 1280 px the aliases are a column beside the inbox; at 390 px they fold above the list and nothing sticks out; dark mode too', async () => {
    const wide = await open({ width: 1280, height: 900 });
    await wide.page.goto(await loginUrl(daemon));
    await wide.page.locator('#live.on').waitFor();
    await wide.page.locator('#aliases li', { hasText: 'ALICE' }).waitFor();
    const panel = await wide.page.locator('#aliases-panel').boundingBox();
    const list = await wide.page.locator('#messages').boundingBox();
    const compose = await wide.page.locator('#compose').boundingBox();
    assert.ok(panel && list && compose);
    assert.ok(panel.x >= list.x + list.width, `the aliases (x ${panel.x}) are right of the list (to ${list.x + list.width})`);
    assert.ok(panel.y < list.y && Math.abs(panel.y - compose.y) < 2, 'level with the compose box, at the top');
    assert.equal(await wide.page.locator('#aliases-panel[open]').count(), 1, 'open beside the inbox');
    assert.equal(await overflowsSideways(wide.page), false);
    await screenshot(wide.page, 'layout-1280');
    await wide.page.emulateMedia({ colorScheme: 'dark' });
    await screenshot(wide.page, 'layout-1280-dark');

    const phone = await open({ width: 390, height: 844 });
    await phone.page.goto(await loginUrl(daemon));
    await phone.page.locator('#live.on').waitFor();
    const folded = await phone.page.locator('#aliases-panel').boundingBox();
    const phoneList = await phone.page.locator('#messages').boundingBox();
    const phoneCompose = await phone.page.locator('#compose').boundingBox();
    assert.ok(folded && phoneList && phoneCompose);
    assert.ok(folded.y > phoneCompose.y && folded.y < phoneList.y, 'between the compose box and the list');
    assert.ok(folded.height < 80, `folded: ${folded.height} px`);
    assert.equal(await phone.page.locator('#aliases-panel[open]').count(), 0);
    assert.equal(await overflowsSideways(phone.page), false);
    await screenshot(phone.page, 'layout-390');
    await phone.page.locator('#aliases-panel summary').click();
    await phone.page.locator('#alias-name').waitFor();
    const add = await phone.page.getByRole('button', { name: 'Add', exact: true }).boundingBox();
    assert.ok(add && add.x + add.width <= 390, 'the Add button is on the screen');
    assert.equal(await overflowsSideways(phone.page), false);
    await phone.page.emulateMedia({ colorScheme: 'dark' });
    await screenshot(phone.page, 'layout-390-dark');
    await done(wide, phone);
  });

  test('mark all read: one click reads every unread message, the count clears, the receipts say read on the web, other pages follow', async () => {
    for (const text of ['unread one', 'unread two', 'unread three']) assert.equal((await daemon.cli(['send', 'ALICE', text])).code, 0);
    const browser = await open();
    const { page } = browser;
    await page.goto(await loginUrl(daemon));
    await page.locator('#live.on').waitFor();
    await messageItem(page, 'unread three').waitFor();
    // alice, on her phone, sees the messages to ALICE and follows
    const phone = await open({ width: 390, height: 780 });
    await phone.page.goto(base);
    await phone.page.fill('#login-user', 'alice');
    await phone.page.fill('#login-password', 'alice-pw');
    await phone.page.getByRole('button', { name: 'Log in' }).click();
    await phone.page.locator('#live.on').waitFor();
    assert.match((await phone.page.locator('#unread').textContent()) ?? '', /^\d+ new$/);
    assert.match((await page.locator('#unread').textContent()) ?? '', /^\d+ new$/);
    const id = await messageItem(page, 'unread two').getAttribute('data-id');
    await page.getByRole('button', { name: 'Mark all read' }).click();
    await page.locator('#inbox-status.is-ok', { hasText: /^Marked \d+ messages? read\.$/ }).waitFor();
    assert.equal(await page.locator('#unread').textContent(), '');
    assert.equal(await page.locator('li.message[data-state="unread"]').count(), 0);
    assert.equal(await page.title(), 'netsend inbox');
    assert.equal(await page.locator('#read-all').isVisible(), false, 'nothing left to mark');
    // recorded as a single read is: the sender's receipt says read, on the web
    const receipt = JSON.parse((await daemon.cli(['receipt', String(id), '--json'])).stdout) as { state: string; surfaces: Record<string, { state: string }> };
    assert.deepEqual([receipt.state, receipt.surfaces.web?.state], ['read', 'read']);
    // alice's page hears of it on the live stream
    await phone.page.waitForFunction("document.querySelector('#unread').textContent === ''");
    assert.equal(await phone.page.locator('li.message[data-state="unread"]').count(), 0);
    await screenshot(page, 'mark-all-read');
    await page.reload();
    await messageItem(page, 'unread three').waitFor();
    assert.equal(await page.locator('li.message[data-state="unread"]').count(), 0, 'and stays read after a reload');
    await done(browser, phone);
  });
});
