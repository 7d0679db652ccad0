/** Header text as ntfy publishers send it: UTF-8 bytes, RFC 2047 encoded-words, plain Latin-1. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { headerText } from './header-text.js';

/** What Node hands over for a header sent as these UTF-8 bytes: one Latin-1 character per byte. */
const asNodeGivesIt = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

test('a header sent as UTF-8 (curl -H "Title: Grüße 🍕") reads as the text sent', () => {
  assert.equal(headerText(asNodeGivesIt('Grüße 🍕')), 'Grüße 🍕');
  assert.equal(headerText('plain ascii'), 'plain ascii');
});

test('RFC 2047 encoded-words in UTF-8 or Latin-1, B or Q, are decoded; adjacent words join; unknown charsets stay', () => {
  assert.equal(headerText('=?UTF-8?B?R3LDvMOfZSDwn42V?='), 'Grüße 🍕');
  assert.equal(headerText('=?utf-8?q?Gr=C3=BC=C3=9Fe_Welt?='), 'Grüße Welt');
  assert.equal(headerText('=?ISO-8859-1?Q?Gr=FC=DFe?='), 'Grüße');
  assert.equal(headerText('=?UTF-8?B?R3LDvA==?= =?UTF-8?B?w59l?='), 'Grüße');
  assert.equal(headerText('Re: =?UTF-8?B?w4k=?=t\u00e9'.replace('t\u00e9', 'te')), 'Re: Éte');
  assert.equal(headerText('=?KOI8-R?B?8NLJ18XU?='), '=?KOI8-R?B?8NLJ18XU?=');
});

test('Latin-1 that is not UTF-8 stays Latin-1', () => {
  assert.equal(headerText('Gr\u00fc\u00dfe'), 'Grüße');
});
