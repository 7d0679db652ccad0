// The netsend web inbox: plain JS, no build step. Every message text is put on the page with
// textContent, never as HTML: a message cannot run script or restyle the page.
'use strict';

const $ = (selector, root = document) => root.querySelector(selector);
const PAGE = 50;
/** A text past either is shown collapsed (its first 12 lines) with "Show all". */
const LONG_TEXT = { characters: 1500, lines: 12 };
/** Where the aliases have a column of their own (app.css's breakpoint): there they start open. */
const WIDE = window.matchMedia('(min-width: 60rem)');

const state = {
  session: null,
  /** id → message, and the ids in display order (newest first) */
  messages: new Map(),
  /** how many of them are unread: kept as they change, not counted at each arrival */
  unread: 0,
  oldestId: 0,
  newestId: 0,
  query: '',
  stream: null,
  /** ids of long messages shown in full: a message drawn again (read, acknowledged) stays so */
  expanded: new Set(),
};

/** Text from the network: no control characters or bidi overrides (they could disguise a message). */
function printable(text) {
  return String(text)
    .replace(/\r\n?/g, '\n')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '');
}

class ApiError extends Error {
  constructor(status, body) {
    super(body && typeof body.message === 'string' ? body.message : `HTTP ${status}`);
    this.httpStatus = status;
    /** The NET_API_STATUS the server named (2273, NERR_NameNotFound, …), when it named one. */
    this.status = body && typeof body.status === 'number' ? body.status : null;
    this.statusName = body && typeof body.name === 'string' ? body.name : null;
  }
}

async function api(method, path, body) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && state.session && state.session.csrf) headers['X-CSRF-Token'] = state.session.csrf;
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, { message: 'The daemon did not answer: is it running?' });
  }
  const json = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, json);
  return json;
}

function show(id, visible) {
  $(id).hidden = !visible;
}

/**
 * Says what became of an action in a status line: `kind` is 'error', 'ok' or 'info' (under
 * way, neutral). An error is unmistakable — its own colour and rule, a leading "Error:", the
 * status the server named, and role=alert so a screen reader says it at once; a success is green
 * with a tick. Text from the network goes in as text only.
 */
function say(element, kind, text) {
  element.classList.remove('is-error', 'is-ok', 'is-info');
  element.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  if (!text) {
    element.replaceChildren();
    delete element.dataset.kind;
    return;
  }
  element.classList.add(`is-${kind}`);
  element.dataset.kind = kind;
  const parts = [];
  if (kind === 'error') {
    const label = document.createElement('strong');
    label.className = 'status-label';
    label.textContent = 'Error:';
    parts.push(label, ' ');
  }
  parts.push(printable(text));
  element.replaceChildren(...parts);
}

/** An error from the API as a status line: its words, and the NET_API_STATUS it named. */
function sayError(element, error) {
  say(element, 'error', error.message);
  if (error.statusName) {
    const code = document.createElement('span');
    code.className = 'status-code';
    code.textContent = ` (${printable(error.statusName)}${error.status === null ? '' : ` ${error.status}`})`;
    element.append(code);
  }
}

/** Ctrl+Enter (⌘+Enter on a Mac) in a text box sends its form, as the Send button does. */
function sendOnCtrlEnter(textarea) {
  textarea.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter' || !(event.ctrlKey || event.metaKey) || event.isComposing) return;
    event.preventDefault();
    textarea.form?.requestSubmit();
  });
}

const MAC = /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);
const KEYS_HINT = MAC ? '⌘+Enter sends' : 'Ctrl+Enter sends';

// --- logging in ------------------------------------------------------------

async function start() {
  // A one-time link: the token is in the fragment, so it never reaches a server log; drop it from the address bar at once.
  const token = /^#token=([A-Za-z0-9_-]{1,128})$/.exec(location.hash)?.[1];
  if (token) {
    history.replaceState(null, '', location.pathname);
    try {
      await api('POST', '/api/login', { token });
    } catch (error) {
      return showLogin(error);
    }
  }
  try {
    state.session = await api('GET', '/api/session');
  } catch (error) {
    return showLogin(error.httpStatus === 401 ? null : error);
  }
  await showApp();
}

/** The login form, with an error (an ApiError), a notice (a string) or nothing. */
function showLogin(why) {
  show('#app', false);
  show('#logout', false);
  show('#login', true);
  $('#who').textContent = '';
  if (why instanceof ApiError) sayError($('#login-status'), why);
  else say($('#login-status'), 'info', why || '');
}

$('#login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  say($('#login-status'), 'info', '');
  const button = $('#login-form button');
  button.disabled = true;
  try {
    await api('POST', '/api/login', { user: $('#login-user').value, password: $('#login-password').value });
    $('#login-password').value = '';
    state.session = await api('GET', '/api/session');
    await showApp();
  } catch (error) {
    sayError($('#login-status'), error);
  } finally {
    button.disabled = false;
  }
});

$('#logout').addEventListener('click', async () => {
  try {
    await api('POST', '/api/logout');
  } finally {
    state.stream?.close();
    state.session = null;
    state.messages.clear();
    state.unread = 0;
    $('#messages').replaceChildren();
    showLogin('Logged out.');
  }
});

async function showApp() {
  const s = state.session;
  show('#login', false);
  show('#app', true);
  show('#logout', true);
  $('#who').textContent = `${s.owner ? 'owner' : s.user} on ${s.computerName}`;
  show('#compose', s.canSend);
  // No compose box: say why in its place, in the access rules' words (from the session API)
  show('#compose-off', !s.canSend);
  $('#compose-off-reason').textContent = s.canSend ? '' : printable(s.sendProblem || 'This account may not send from this host.');
  show('#aliases-panel', s.canManageAliases);
  $('#app').classList.toggle('with-side', s.canManageAliases);
  // beside the inbox on a wide screen the list is open; above it on a phone, folded
  $('#aliases-panel').open = s.canManageAliases && WIDE.matches;
  for (const hint of document.querySelectorAll('.keys')) hint.textContent = KEYS_HINT;
  try {
    await loadMessages();
  } catch (error) {
    sayError($('#inbox-status'), error);
  }
  connect();
  if (s.canManageAliases) await loadAliases().catch((error) => sayError($('#alias-status'), error));
}

// --- the inbox -------------------------------------------------------------

async function loadMessages(before) {
  const params = new URLSearchParams({ limit: String(PAGE) });
  if (before) params.set('before', String(before));
  if (state.query) params.set('q', state.query);
  const { messages } = await api('GET', `/api/messages?${params}`);
  if (!before) {
    state.messages.clear();
    state.unread = 0;
    $('#messages').replaceChildren();
  }
  for (const message of messages) place(message, false);
  if (messages.length > 0) state.oldestId = messages[messages.length - 1].id;
  show('#more', messages.length === PAGE);
  refreshCounts();
}

function matchesQuery(message) {
  if (!state.query) return true;
  const q = state.query.toLowerCase();
  return [message.text, message.title ?? '', message.from, message.to].some((s) => s.toLowerCase().includes(q));
}

/** Puts a message in its place by id (newest first); a message already shown is replaced. */
function place(message, fresh) {
  const existing = state.messages.get(message.id);
  state.messages.set(message.id, message);
  state.unread += Number(stateOf(message) === 'unread') - Number(existing !== undefined && stateOf(existing) === 'unread');
  state.newestId = Math.max(state.newestId, message.id);
  const node = render(message);
  if (existing) {
    const old = document.querySelector(`li[data-id="${message.id}"]`);
    if (old) {
      const focus = focusAfter(old, node);
      keepReply(old, node);
      old.replaceWith(node);
      focus?.focus();
    }
    return;
  }
  if (fresh) node.classList.add('fresh');
  const list = $('#messages');
  const after = [...list.children].find((li) => Number(li.dataset.id) < message.id);
  list.insertBefore(node, after ?? null);
}

/** A message drawn again (read, acknowledged elsewhere) keeps an open reply: its draft and its status. */
function keepReply(old, node) {
  const form = $('.reply-form', old);
  if (form.hidden && !$('.reply-status', old).hasChildNodes()) return;
  $('.reply-form', node).hidden = form.hidden;
  $('.reply-text', node).value = $('.reply-text', old).value;
  const status = $('.reply-status', old);
  const copy = $('.reply-status', node);
  copy.replaceChildren(...[...status.childNodes].map((child) => child.cloneNode(true)));
  copy.className = status.className;
  copy.setAttribute('role', status.getAttribute('role') ?? 'status');
  if (status.dataset.kind) copy.dataset.kind = status.dataset.kind;
  $('.reply-form button', node).disabled = $('.reply-form button', old).disabled;
}

/**
 * Where the keyboard focus goes when a message is drawn again: the same control in the new
 * drawing, or (Mark read is gone once read) its first action; null when the focus was elsewhere.
 */
function focusAfter(old, node) {
  const active = document.activeElement;
  if (!active || !old.contains(active)) return null;
  const shown = (element) => element && !element.hidden && !element.closest('[hidden]');
  const selector = ['.reply-text', '.reply-form button', '.toggle-text', '.read', '.ack', '.reply'].find((s) => active.matches(s));
  const same = selector ? $(selector, node) : null;
  return shown(same) ? same : ([...node.querySelectorAll('.actions button')].find(shown) ?? null);
}

function stateOf(message) {
  return message.state.acknowledged ? 'acknowledged' : message.state.read ? 'read' : 'unread';
}

function render(message) {
  const node = $('#message-template').content.firstElementChild.cloneNode(true);
  const current = stateOf(message);
  node.dataset.id = String(message.id);
  node.dataset.state = current;
  $('.from', node).textContent = printable(message.from);
  $('.to', node).textContent = printable(message.to);
  const time = $('.time', node);
  time.dateTime = message.receivedAt;
  time.textContent = new Date(message.receivedAt).toLocaleString();
  $('.state', node).textContent = current === 'unread' ? 'new' : current;
  $('.warn', node).hidden = message.verified;
  const provenance = $('.provenance', node);
  provenance.hidden = message.provenance === undefined;
  provenance.textContent = message.provenance === undefined ? '' : `(${printable(message.provenance)})`;
  const title = $('.title', node);
  title.hidden = message.title === undefined;
  title.textContent = message.title === undefined ? '' : printable(message.title);
  // normal is how every message was shown; the others say so, urgent the loudest
  const priority = $('.priority', node);
  node.dataset.priority = message.priority;
  priority.hidden = message.priority === 'normal';
  priority.dataset.priority = message.priority;
  priority.textContent = message.priority;
  renderText(message, node);
  $('.read', node).hidden = current !== 'unread';
  $('.ack', node).hidden = current === 'acknowledged';
  // Reply only where it can go: the server's rule (canReply), and only for those who may send
  $('.reply', node).hidden = !state.session.canSend || message.canReply === false;
  $('.keys', node).textContent = KEYS_HINT;
  sendOnCtrlEnter($('.reply-text', node));
  $('.read', node).addEventListener('click', () => mark(message.id, 'read'));
  $('.ack', node).addEventListener('click', () => mark(message.id, 'ack'));
  $('.reply', node).addEventListener('click', () => {
    const form = $('.reply-form', node);
    form.hidden = !form.hidden;
    if (!form.hidden) $('.reply-text', node).focus();
  });
  $('.reply-form', node).addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = $('.reply-form button', node);
    if (button.disabled) return;
    // the node may be drawn again meanwhile (a state change): speak to the one on the page now
    const onPage = () => document.querySelector(`li[data-id="${message.id}"]`) ?? node;
    button.disabled = true;
    say($('.reply-status', node), 'info', 'Sending…');
    try {
      await api('POST', `/api/messages/${message.id}/reply`, { text: $('.reply-text', node).value });
      $('.reply-text', onPage()).value = '';
      say($('.reply-status', onPage()), 'ok', `Reply sent to ${message.from}.`);
      if (stateOf(state.messages.get(message.id)) === 'unread') await mark(message.id, 'read');
    } catch (error) {
      sayError($('.reply-status', onPage()), error);
    } finally {
      $('.reply-form button', onPage()).disabled = false;
      button.disabled = false;
    }
  });
  return node;
}

/** The text, and for a long one the first lines with a "Show all" / "Show less" button (a real button: Tab, Enter, Space). */
function renderText(message, node) {
  const text = printable(message.text);
  const box = $('.text', node);
  box.textContent = text;
  box.id = `text-${message.id}`;
  const toggle = $('.toggle-text', node);
  const long = text.length > LONG_TEXT.characters || text.split('\n').length > LONG_TEXT.lines;
  toggle.hidden = !long;
  if (!long) return;
  toggle.setAttribute('aria-controls', box.id);
  const set = (expanded) => {
    box.classList.toggle('collapsed', !expanded);
    toggle.setAttribute('aria-expanded', String(expanded));
    toggle.textContent = expanded ? 'Show less' : `Show all (${text.length.toLocaleString()} characters)`;
    if (expanded) state.expanded.add(message.id);
    else state.expanded.delete(message.id);
  };
  set(state.expanded.has(message.id));
  toggle.addEventListener('click', () => {
    const expanded = toggle.getAttribute('aria-expanded') !== 'true';
    set(expanded);
    // folding a text read to its end: bring the message back into view, not the next one
    if (!expanded && node.getBoundingClientRect().top < 0) node.scrollIntoView({ block: 'start' });
  });
}

async function mark(id, what) {
  try {
    place(await api('POST', `/api/messages/${id}/${what}`), false);
    refreshCounts();
  } catch (error) {
    sayError($('#inbox-status'), error);
  }
}

/**
 * Mark all read: every unread message this account can see, up to the newest the page shows,
 * through the API in bounded calls (each says where the next goes on). The open pages, this one
 * too, hear of each read on the live stream; the answer updates this page at once.
 */
$('#read-all').addEventListener('click', async () => {
  const button = $('#read-all');
  const status = $('#inbox-status');
  button.disabled = true;
  say(status, 'info', 'Marking all read…');
  let before = state.newestId + 1;
  let count = 0;
  try {
    for (let calls = 0; calls < 100; calls++) {
      const answer = await api('POST', `/api/messages/read-all?before=${before}`);
      for (const id of answer.marked) {
        count++;
        const message = state.messages.get(id);
        if (message && !message.state.read) place({ ...message, state: { ...message.state, read: true } }, false);
      }
      if (!answer.more) break;
      before = answer.before;
    }
    refreshCounts();
    say(status, 'ok', count === 0 ? 'Nothing was unread.' : `Marked ${count} message${count === 1 ? '' : 's'} read.`);
  } catch (error) {
    refreshCounts();
    sayError(status, error);
  } finally {
    button.disabled = false;
  }
});

function refreshCounts() {
  const { unread } = state;
  $('#unread').textContent = unread === 0 ? '' : `${unread} new`;
  show('#read-all', unread > 0);
  document.title = unread === 0 ? 'netsend inbox' : `(${unread}) netsend inbox`;
  show('#empty', state.messages.size === 0);
}

$('#more').addEventListener('click', () => loadMessages(state.oldestId).catch((error) => sayError($('#inbox-status'), error)));

let searchTimer;
$('#search').addEventListener('input', () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => {
    state.query = $('#search').value.trim();
    say($('#inbox-status'), 'info', '');
    loadMessages().catch((error) => sayError($('#inbox-status'), error));
  }, 250);
});

// --- live arrival (Server-Sent Events) ------------------------------------

function connect() {
  state.stream?.close();
  // after= catches up on anything that arrived between the list and the stream
  const stream = new EventSource(`/api/events?after=${state.newestId}`);
  state.stream = stream;
  const live = $('#live');
  stream.addEventListener('open', () => {
    live.classList.add('on');
    live.title = 'Live: new messages appear as they arrive';
  });
  stream.addEventListener('error', async () => {
    live.classList.remove('on');
    live.title = 'Reconnecting…';
    // A stream refused for an ended session would retry for ever: check the session, log in again if it is gone.
    if (stream.readyState === EventSource.CLOSED) {
      try {
        state.session = await api('GET', '/api/session');
        setTimeout(connect, 2000);
      } catch {
        showLogin('Your session has ended; log in again.');
      }
    }
  });
  stream.addEventListener('message', (event) => {
    const message = JSON.parse(event.data);
    if (!matchesQuery(message)) return;
    place(message, !state.messages.has(message.id));
    refreshCounts();
  });
  // More arrived while away than a reconnecting stream replays: fetch the list again.
  stream.addEventListener('reload', () => {
    loadMessages().catch((error) => sayError($('#inbox-status'), error));
  });
  stream.addEventListener('state', (event) => {
    const change = JSON.parse(event.data);
    const message = state.messages.get(change.messageId);
    if (!message) return;
    const read = message.state.read || change.state === 'read' || change.state === 'acknowledged';
    const acknowledged = message.state.acknowledged || change.state === 'acknowledged';
    // delivered, shown: nothing the page draws changes, so it is not drawn again
    if (read === message.state.read && acknowledged === message.state.acknowledged) return;
    place({ ...message, state: { ...message.state, read, acknowledged } }, false);
    refreshCounts();
  });
}

// --- sending ---------------------------------------------------------------

$('#compose').addEventListener('submit', async (event) => {
  event.preventDefault();
  const status = $('#compose-status');
  const button = $('#compose button[type="submit"]');
  if (button.disabled) return;
  const to = $('#compose-to').value.trim();
  button.disabled = true;
  say(status, 'info', 'Sending…');
  try {
    await api('POST', '/api/send', { to, text: $('#compose-text').value });
    say(status, 'ok', `Sent to ${to}.`);
    $('#compose-text').value = '';
  } catch (error) {
    sayError(status, error);
  } finally {
    button.disabled = false;
  }
});
sendOnCtrlEnter($('#compose-text'));

// --- aliases ---------------------------------------------------------------

async function loadAliases() {
  const aliases = await api('GET', '/api/aliases');
  const list = $('#aliases');
  list.replaceChildren(
    ...aliases.map((alias) => {
      const li = document.createElement('li');
      const name = document.createElement('span');
      name.textContent = alias.name;
      const kind = document.createElement('span');
      kind.className = 'kind';
      kind.textContent = alias.kind;
      li.append(name, kind);
      if (alias.kind === 'added') {
        const remove = document.createElement('button');
        remove.type = 'button';
        remove.className = 'quiet';
        remove.textContent = 'Delete';
        remove.setAttribute('aria-label', `Delete ${alias.name}`);
        remove.addEventListener('click', async () => {
          try {
            await api('DELETE', `/api/aliases/${encodeURIComponent(alias.name)}`);
            // the list first, so the status never announces what the list does not yet show
            await loadAliases();
            say($('#alias-status'), 'ok', `${alias.name} deleted.`);
          } catch (error) {
            sayError($('#alias-status'), error);
          }
        });
        li.append(remove);
      }
      return li;
    }),
  );
}

$('#alias-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const name = $('#alias-name').value.trim();
  try {
    await api('POST', '/api/aliases', { name });
    $('#alias-name').value = '';
    await loadAliases();
    say($('#alias-status'), 'ok', `${name.toUpperCase()} added.`);
  } catch (error) {
    sayError($('#alias-status'), error);
  }
});

start();
