/** The NET_API_STATUS registry (status.ts) and the error that carries a status (errors.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NetApiError, isNetApiError } from './errors.js';
import { NERR, STATUS, describeStatus, statusMessage, statusName, type StatusName } from './status.js';

test('STATUS gives every entry its own code, so a number names exactly one status', () => {
  const codes = Object.values(STATUS).map((s) => s.code);
  const duplicates = codes.filter((code, i) => codes.indexOf(code) !== i);
  assert.deepEqual(duplicates, [], `codes used twice: ${duplicates.join(', ')}`);
  for (const [name, { code, message }] of Object.entries(STATUS)) {
    assert.ok(Number.isSafeInteger(code) && code >= 0, `${name} has a non-negative whole number (${code})`);
    assert.match(message, /^[A-Z].*\.$/, `${name} has words ending in a period`);
    assert.equal(statusName(code), name, `statusName(${code}) comes back to ${name}`);
  }
});

test('NERR maps each name to the number the original netapi32 returned', () => {
  const original: Record<string, number> = {
    NERR_Success: 0,
    ERROR_ACCESS_DENIED: 5,
    ERROR_NOT_SUPPORTED: 50,
    ERROR_INVALID_PARAMETER: 87,
    ERROR_INVALID_LEVEL: 124,
    ERROR_MORE_DATA: 234,
    NERR_NetworkError: 2136,
    NERR_NameNotFound: 2273,
    NERR_AlreadyExists: 2276,
    NERR_TooManyNames: 2277,
    NERR_DelComputerName: 2278,
    NERR_NotLocalName: 2285,
    NERR_DuplicateName: 2297,
  };
  for (const [name, code] of Object.entries(original)) {
    assert.equal(NERR[name as StatusName], code, name);
  }
  assert.deepEqual(Object.keys(NERR), Object.keys(STATUS), 'NERR has exactly the names of STATUS');
  assert.ok(Object.isFrozen(NERR), 'NERR cannot be changed at run time');
});

test('describeStatus(2273) reads as net helpmsg would print it, with name and number', () => {
  assert.equal(describeStatus(2273), 'The message alias could not be found on the network. (NERR_NameNotFound 2273)');
  assert.equal(describeStatus(87), 'The parameter is incorrect. (ERROR_INVALID_PARAMETER 87)');
});

test('statusName of a number netsend never returns is undefined, and its words say it is unknown', () => {
  for (const code of [1, 2272.5, -1, 9999, Number.NaN]) assert.equal(statusName(code), undefined, String(code));
  assert.equal(statusMessage(9999), 'Unknown status 9999.');
  assert.equal(describeStatus(9999), 'Unknown status 9999. (status 9999)');
});

test('NetApiError carries status, statusName and the standard words, with a detail appended', () => {
  const plain = new NetApiError('NERR_NameNotFound');
  assert.ok(plain instanceof Error);
  assert.ok(isNetApiError(plain));
  assert.equal(plain.name, 'NetApiError');
  assert.equal(plain.status, 2273);
  assert.equal(plain.statusName, 'NERR_NameNotFound');
  assert.equal(plain.message, 'The message alias could not be found on the network.');

  const cause = new Error('socket closed');
  const detailed = new NetApiError('ERROR_INVALID_PARAMETER', 'The name "A*" holds a *.', { cause });
  assert.equal(detailed.status, 87);
  assert.equal(detailed.message, 'The parameter is incorrect. The name "A*" holds a *.');
  assert.equal(detailed.cause, cause);
  assert.equal(String(detailed), 'NetApiError: The parameter is incorrect. The name "A*" holds a *.');
  assert.equal(isNetApiError(new Error('x')), false);
  assert.equal(isNetApiError({ status: 87 }), false, 'a look-alike object is not a NetApiError');
});

test('NetApiError.fromStatus keeps the number and the message it was given', () => {
  const known = NetApiError.fromStatus(2276, 'BOB is here already.');
  assert.ok(known instanceof NetApiError);
  assert.equal(known.status, 2276);
  assert.equal(known.statusName, 'NERR_AlreadyExists');
  assert.equal(known.message, 'BOB is here already.');

  const standard = NetApiError.fromStatus(2285);
  assert.equal(standard.message, 'The name is not on the local computer.', 'without a message the standard words are used');

  const unknown = NetApiError.fromStatus(9999, 'from a newer daemon');
  assert.equal(unknown.status, 9999, 'an unknown number is kept, not turned into 2140');
  assert.equal(unknown.statusName, undefined);
  assert.equal(unknown.message, 'from a newer daemon');
  assert.equal(NetApiError.fromStatus(9999).message, 'Unknown status 9999.');
});

test('NetApiError.toJSON has the shape { status, name, message }, with UNKNOWN for an unknown number', () => {
  assert.deepEqual(new NetApiError('NERR_TooManyNames', 'Limit 2.').toJSON(), {
    status: 2277,
    name: 'NERR_TooManyNames',
    message: 'The maximum number of added message aliases has been exceeded. Limit 2.',
  });
  assert.deepEqual(JSON.parse(JSON.stringify(NetApiError.fromStatus(9999, 'odd'))), { status: 9999, name: 'UNKNOWN', message: 'odd' });
});
