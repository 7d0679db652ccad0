// The netsend web inbox: plain JS, no build step. Every message text is put on the page with
// textContent, never as HTML: a message cannot run script or restyle the page.
'use strict';

const $ = (selector, root = document) => root.querySelector(selector);
const PAGE = 50;

const state = {
  session: null,
  /** id → message, and the ids in display order (newest first) */
  messages: new Map(),
  oldestId: 0,
  newestId: 0,
  query: '',
  stream: null,
};

/** Text from the network: no control characters or bidi overrides (they could disguise a message). */
function printable(text) {
  return String(text)
    .replace(/\r\n?/g, '\n')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '');
}

class ApiError extends Error {
  constructor(status, body) {
    super(body && body.message ? body.message : `HTTP ${status}`);
    this.httpStatus = status;
  }
}

async function api(method, path, body) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && state.session && state.session.csrf) headers['X-CSRF-Token'] = state.session.csrf;
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  const json = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, json);
  return json;
}

function show(id, visible) {
  $(id).hidden = !visible;
}

// --- logging in ------------------------------------------------------------

async function start() {
  // A one-time link: the token is in the fragment, so it never reaches a server log; drop it from the address bar at once.
  const token = /^#token=([A-Za-z0-9_-]{1,128})$/.exec(location.hash)?.[1];
  if (token) {
    history.replaceState(null, '', location.pathname);
    try {
      await api('POST', '/api/login', { token });
    } catch (error) {
      return showLogin(error.message);
    }
  }
  try {
    state.session = await api('GET', '/api/session');
  } catch (error) {
    return showLogin(error.httpStatus === 401 ? '' : error.message);
  }
  await showApp();
}

function showLogin(message) {
  show('#app', false);
  show('#logout', false);
  show('#login', true);
  $('#who').textContent = '';
  $('#login-error').textContent = message || '';
}

$('#login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  $('#login-error').textContent = '';
  try {
    await api('POST', '/api/login', { user: $('#login-user').value, password: $('#login-password').value });
    $('#login-password').value = '';
    state.session = await api('GET', '/api/session');
    await showApp();
  } catch (error) {
    $('#login-error').textContent = error.message;
  }
});

$('#logout').addEventListener('click', async () => {
  try {
    await api('POST', '/api/logout');
  } finally {
    state.stream?.close();
    state.session = null;
    state.messages.clear();
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
  show('#aliases-panel', s.canManageAliases);
  await loadMessages();
  connect();
  if (s.canManageAliases) await loadAliases();
}

// --- the inbox -------------------------------------------------------------

async function loadMessages(before) {
  const params = new URLSearchParams({ limit: String(PAGE) });
  if (before) params.set('before', String(before));
  if (state.query) params.set('q', state.query);
  const { messages } = await api('GET', `/api/messages?${params}`);
  if (!before) {
    state.messages.clear();
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
  state.newestId = Math.max(state.newestId, message.id);
  const node = render(message);
  if (existing) {
    document.querySelector(`li[data-id="${message.id}"]`)?.replaceWith(node);
    return;
  }
  if (fresh) node.classList.add('fresh');
  const list = $('#messages');
  const after = [...list.children].find((li) => Number(li.dataset.id) < message.id);
  list.insertBefore(node, after ?? null);
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
  $('.text', node).textContent = printable(message.text);
  $('.read', node).hidden = current !== 'unread';
  $('.ack', node).hidden = current === 'acknowledged';
  $('.reply', node).hidden = !state.session.canSend;
  $('.read', node).addEventListener('click', () => mark(message.id, 'read'));
  $('.ack', node).addEventListener('click', () => mark(message.id, 'ack'));
  $('.reply', node).addEventListener('click', () => {
    const form = $('.reply-form', node);
    form.hidden = !form.hidden;
    if (!form.hidden) $('.reply-text', node).focus();
  });
  $('.reply-form', node).addEventListener('submit', async (event) => {
    event.preventDefault();
    const status = $('.reply-status', node);
    const button = $('.reply-form button', node);
    button.disabled = true;
    try {
      await api('POST', `/api/messages/${message.id}/reply`, { text: $('.reply-text', node).value });
      status.textContent = `Reply sent to ${printable(message.from)}.`;
      $('.reply-text', node).value = '';
      if (stateOf(state.messages.get(message.id)) === 'unread') await mark(message.id, 'read');
    } catch (error) {
      status.textContent = error.message;
    } finally {
      button.disabled = false;
    }
  });
  return node;
}

async function mark(id, what) {
  try {
    place(await api('POST', `/api/messages/${id}/${what}`), false);
    refreshCounts();
  } catch (error) {
    $('#compose-status').textContent = error.message;
  }
}

function refreshCounts() {
  const unread = [...state.messages.values()].filter((m) => stateOf(m) === 'unread').length;
  $('#unread').textContent = unread === 0 ? '' : `${unread} new`;
  document.title = unread === 0 ? 'netsend inbox' : `(${unread}) netsend inbox`;
  show('#empty', state.messages.size === 0);
}

$('#more').addEventListener('click', () => loadMessages(state.oldestId));

let searchTimer;
$('#search').addEventListener('input', () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => {
    state.query = $('#search').value.trim();
    loadMessages().catch((error) => ($('#compose-status').textContent = error.message));
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
    loadMessages().catch((error) => ($('#compose-status').textContent = error.message));
  });
  stream.addEventListener('state', (event) => {
    const change = JSON.parse(event.data);
    const message = state.messages.get(change.messageId);
    if (!message) return;
    const read = message.state.read || change.state === 'read' || change.state === 'acknowledged';
    const acknowledged = message.state.acknowledged || change.state === 'acknowledged';
    place({ ...message, state: { read, acknowledged, latest: change } }, false);
    refreshCounts();
  });
}

// --- sending ---------------------------------------------------------------

$('#compose').addEventListener('submit', async (event) => {
  event.preventDefault();
  const status = $('#compose-status');
  const to = $('#compose-to').value.trim();
  status.textContent = 'Sending…';
  try {
    await api('POST', '/api/send', { to, text: $('#compose-text').value });
    status.textContent = `Sent to ${to}.`;
    $('#compose-text').value = '';
  } catch (error) {
    status.textContent = error.message;
  }
});

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
            $('#alias-status').textContent = `${alias.name} deleted.`;
          } catch (error) {
            $('#alias-status').textContent = error.message;
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
    $('#alias-status').textContent = `${name.toUpperCase()} added.`;
  } catch (error) {
    $('#alias-status').textContent = error.message;
  }
});

start();
