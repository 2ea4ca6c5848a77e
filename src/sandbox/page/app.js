// The sandbox page: a small Slack client for the stand-in workspace. It shows what
// the chosen person would see and sends what they do to the sandbox's API, which
// delivers it to Tandem signed as Slack would. It never talks to Tandem itself.

import { element, readInputValues, renderBlocks, showInputErrors } from './blocks.js';
import { renderMrkdwn } from './mrkdwn.js';

const storageKeys = { person: 'tandem-sandbox.person', welcomeHidden: 'tandem-sandbox.welcome-hidden' };
/** Location hashes of the app's two tabs; channels use their ID. */
const appMessages = 'app';
const appHome = 'app-home';

const page = {
  /** @type {any} the person's view from GET /sandbox/state */
  state: null,
  person: localStorage.getItem(storageKeys.person) ?? '',
  conversation: decodeURIComponent(location.hash.slice(1)),
  /** Which conversation the list shows, to scroll to the end when it changes. */
  shownConversation: '',
  /** Latest message ts each person has seen in each conversation, for unread marks. */
  seen: new Map(),
  /** @type {{ id: string, hash: string } | null} the modal on screen */
  modal: null,
  peopleShown: '',
};

const byId = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const input = /** @type {HTMLInputElement} */ (byId('composer-input'));

// ---- talking to the sandbox ------------------------------------------------------

async function post(path, body) {
  const response = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(answer.error?.message ?? `The sandbox answered HTTP ${response.status}.`);
  return answer;
}

/** Does something as the current person; whatever Slack would tell them is shown by `report`. */
async function act(path, body, report = showToast) {
  try {
    const outcome = await post(path, { as: page.state.you, ...body });
    if (outcome.problem) report(outcome.problem);
    return outcome;
  } catch (error) {
    report(error.message);
    return { problem: error.message };
  }
}

let loading = null;
let loadAgain = false;

/** Fetches the person's view and renders it; calls during a fetch coalesce into one more fetch. */
function refresh() {
  if (loading) {
    loadAgain = true;
    return loading;
  }
  loading = (async () => {
    do {
      loadAgain = false;
      let response = await fetch(`/sandbox/state${page.person ? `?as=${encodeURIComponent(page.person)}` : ''}`);
      // Someone no longer in the workspace: start as the demo's first person.
      if (response.status === 404) response = await fetch('/sandbox/state');
      if (!response.ok) throw new Error(`The sandbox answered HTTP ${response.status}.`);
      page.state = await response.json();
      page.person = page.state.you;
      render();
    } while (loadAgain);
  })()
    .catch((error) => showToast(`Could not load the workspace: ${error.message}`))
    .finally(() => {
      loading = null;
    });
  return loading;
}

function listen() {
  const events = new EventSource('/sandbox/changes');
  events.addEventListener('changed', () => refresh());
  events.addEventListener('open', () => {
    byId('connection').hidden = true;
    refresh();
  });
  events.addEventListener('error', () => {
    byId('connection').hidden = false;
  });
}

// ---- rendering -------------------------------------------------------------------

function render() {
  const { state } = page;
  if (!conversationOf(page.conversation)) page.conversation = state.startChannel;
  renderPeople();
  renderNav();
  renderConversation();
  renderComposer();
  renderModal();
  renderLoad();
  document.body.dataset.ready = 'true';
}

/** @returns {{ kind: 'channel', id: string, channel: any } | { kind: 'app', id: string } | { kind: 'home' } | undefined} */
function conversationOf(key) {
  const { state } = page;
  if (key === appHome) return { kind: 'home' };
  if (key === appMessages) return { kind: 'app', id: state.appChannel };
  const channel = state.channels.find((candidate) => candidate.id === key);
  return channel ? { kind: 'channel', id: channel.id, channel } : undefined;
}

function renderPeople() {
  const { state } = page;
  const select = /** @type {HTMLSelectElement} */ (byId('person'));
  const key = JSON.stringify(state.people);
  if (key !== page.peopleShown) {
    page.peopleShown = key;
    select.replaceChildren(...state.people.map((person) => new Option(person.realName, person.id)));
  }
  select.value = state.you;
  const you = state.people.find((person) => person.id === state.you);
  const roles = you?.roles.length ? you.roles : ['no role in the catalog'];
  byId('person-roles').textContent = [you?.title, ...roles].filter(Boolean).join(' · ');
}

function renderNav() {
  const { state } = page;
  const channelLinks = state.channels.map((channel) =>
    navLink(channel.id, `${channel.isPrivate ? '🔒' : '#'}`, channel.name, { notMember: !channel.isMember, unread: isUnread(channel.id, channel.id) }),
  );
  const appLink = navLink(appMessages, '', state.app.name, { unread: isUnread(appMessages, state.appChannel), app: true });
  byId('nav').replaceChildren(
    element('div', 'nav-heading', 'Channels'),
    ...channelLinks,
    element('div', 'nav-heading', 'Apps'),
    appLink,
  );
}

function navLink(key, sigil, name, { notMember = false, unread = false, app = false }) {
  const current = page.conversation === key || (app && page.conversation === appHome);
  const link = element('a', 'nav-item', element('span', app ? 'nav-app-icon' : 'nav-sigil', app ? name.slice(0, 1) : sigil), element('span', 'nav-name', name));
  link.href = `#${key}`;
  link.dataset.name = name;
  link.classList.toggle('current', current);
  link.classList.toggle('unread', unread && !current);
  link.classList.toggle('not-member', notMember);
  if (current) link.setAttribute('aria-current', 'page');
  return link;
}

function latestTs(channelId) {
  const messages = page.state.messages.filter((message) => message.channel === channelId);
  return messages.at(-1)?.ts ?? '0';
}

function isUnread(key, channelId) {
  const seen = page.seen.get(`${page.state.you} ${key}`) ?? '0';
  return Number(latestTs(channelId)) > Number(seen);
}

function renderConversation() {
  const { state } = page;
  const conversation = conversationOf(page.conversation);
  const header = byId('conversation-header');
  const list = byId('conversation');
  const changed = page.shownConversation !== `${state.you} ${page.conversation}`;
  page.shownConversation = `${state.you} ${page.conversation}`;
  byId('welcome').hidden = localStorage.getItem(storageKeys.welcomeHidden) === 'true' || page.conversation !== state.startChannel;

  if (conversation?.kind === 'channel') {
    const { channel } = conversation;
    const meta = [`${channel.memberCount} member${channel.memberCount === 1 ? '' : 's'}`, channel.purpose].filter(Boolean).join(' · ');
    header.replaceChildren(
      element('h1', 'conversation-title', `${channel.isPrivate ? '🔒 ' : '# '}${channel.name}`),
      element('div', 'conversation-meta', meta),
      ...(channel.isMember ? [] : [element('div', 'conversation-note', 'You are not in this channel yet; writing here joins it.')]),
    );
  } else {
    header.replaceChildren(
      element('h1', 'conversation-title', element('span', 'app-avatar', state.app.name.slice(0, 1)), state.app.name, element('span', 'badge', 'APP')),
      appTabs(conversation?.kind === 'home'),
    );
  }

  if (conversation?.kind === 'home') {
    list.replaceChildren(renderHome());
  } else if (conversation) {
    const nearEnd = list.scrollHeight - list.scrollTop - list.clientHeight < 120;
    list.replaceChildren(...renderMessages(conversation.id));
    if (changed || nearEnd) list.scrollTop = list.scrollHeight;
    page.seen.set(`${state.you} ${page.conversation}`, latestTs(conversation.id));
  }
}

function appTabs(homeShown) {
  const { state } = page;
  const tabs = element('div', 'tabs');
  const tab = (key, label, selected) => {
    const link = element('a', `tab${selected ? ' selected' : ''}`, label);
    link.href = `#${key}`;
    return link;
  };
  if (state.homeTabEnabled || state.home) tabs.append(tab(appHome, 'Home', homeShown));
  tabs.append(tab(appMessages, 'Messages', !homeShown));
  return tabs;
}

function renderHome() {
  const { state } = page;
  if (!state.home) return element('div', 'empty', `${state.app.name} has not published a Home tab for you.`);
  return element(
    'div',
    'home',
    renderBlocks(
      state.home.blocks ?? [],
      blockContext((actionId) => act('/sandbox/actions', { actionId, target: { home: true } })),
    ),
  );
}

function renderMessages(channelId) {
  const messages = page.state.messages.filter((message) => message.channel === channelId);
  const timestamps = new Set(messages.map((message) => message.ts));
  const isReply = (message) => message.threadTs && message.threadTs !== message.ts && timestamps.has(message.threadTs);
  const replies = new Map();
  for (const message of messages.filter(isReply)) replies.set(message.threadTs, [...(replies.get(message.threadTs) ?? []), message]);
  const top = messages.filter((message) => !isReply(message));
  if (top.length === 0) return [element('div', 'empty', 'No messages yet.')];
  return top.map((message) => renderMessage(message, replies.get(message.ts) ?? []));
}

function renderMessage(message, replies) {
  const { state } = page;
  const fromApp = message.user === state.app.botUserId;
  const name = fromApp ? state.app.name : personName(message.user);
  const item = element('article', 'message');
  item.dataset.ts = message.ts;
  item.classList.toggle('ephemeral', message.ephemeral);
  item.classList.toggle('pinned', message.pinned);

  const meta = element('div', 'message-meta', element('span', 'author', name));
  if (fromApp) meta.append(element('span', 'badge', 'APP'));
  if (message.at) {
    const time = element('time', 'message-time', new Date(message.at).toLocaleTimeString([], { hour: 'numeric', minute: '2-digit' }));
    /** @type {HTMLTimeElement} */ (time).dateTime = message.at;
    meta.append(time);
  }
  if (message.edited) meta.append(element('span', 'edited', '(edited)'));

  const target = message.ephemeral ? { ephemeralTs: message.ts } : { channel: message.channel, ts: message.ts };
  const context = blockContext((actionId) => act('/sandbox/actions', { actionId, target }));
  const content = message.blocks?.length ? renderBlocks(message.blocks, context) : element('div', 'message-text', renderMrkdwn(message.text, context));

  const body = element('div', 'message-body');
  if (message.pinned) body.append(element('div', 'pinned-note', `📌 Pinned by ${state.app.name}`));
  body.append(meta, content);
  if (message.ephemeral) body.append(element('div', 'ephemeral-note', '👁 Only visible to you'));
  if (replies.length > 0) {
    body.append(
      element('div', 'thread', element('div', 'thread-count', `${replies.length} repl${replies.length === 1 ? 'y' : 'ies'}`), ...replies.map((reply) => renderMessage(reply, []))),
    );
  }
  item.append(avatar(message.user, fromApp ? state.app.name : name), body);
  if (!message.ephemeral && state.shortcuts.length > 0) item.append(shortcutMenu(message));
  return item;
}

/** The message's ⋮ menu with the app's message shortcuts, as Slack shows them. */
function shortcutMenu(message) {
  const menu = element('div', 'message-menu');
  const toggle = element('button', 'message-menu-toggle', '⋮');
  toggle.type = 'button';
  toggle.setAttribute('aria-label', 'More actions');
  const list = element(
    'div',
    'message-menu-list',
    ...page.state.shortcuts.map((shortcut) => {
      const button = element('button', 'message-menu-item', element('strong', '', shortcut.name), element('span', '', page.state.app.name));
      button.type = 'button';
      button.title = shortcut.description;
      button.addEventListener('click', () => {
        list.hidden = true;
        act('/sandbox/shortcuts', { channel: message.channel, ts: message.ts, callbackId: shortcut.callbackId });
      });
      return button;
    }),
  );
  list.hidden = true;
  toggle.addEventListener('click', () => {
    list.hidden = !list.hidden;
  });
  menu.append(toggle, list);
  return menu;
}

function avatar(id, name) {
  const picture = element('div', 'avatar', name.slice(0, 1).toUpperCase());
  let hash = 0;
  for (const character of id) hash = (hash * 31 + character.charCodeAt(0)) % 360;
  picture.style.backgroundColor = id === page.state.app.botUserId ? '' : `hsl(${hash} 45% 42%)`;
  if (id === page.state.app.botUserId) picture.classList.add('app-avatar');
  return picture;
}

function personName(id) {
  return page.state.people.find((person) => person.id === id)?.realName ?? id;
}

/** What Block Kit and mrkdwn need to show names, follow channel links and send clicks. */
function blockContext(onAction) {
  const { state } = page;
  return {
    userName: (id) => (id === state.app.botUserId ? state.app.name : state.people.find((person) => person.id === id)?.realName),
    channelName: (id) => (id === state.appChannel ? state.app.name : state.channels.find((channel) => channel.id === id)?.name),
    openChannel: (id) => {
      location.hash = id === state.appChannel ? appMessages : id;
    },
    people: state.people,
    onAction,
    confirm: confirmDialog,
  };
}

function renderComposer() {
  const { state } = page;
  const conversation = conversationOf(page.conversation);
  const composer = byId('composer');
  composer.hidden = conversation?.kind === 'home';
  if (!conversation || conversation.kind === 'home') return;
  input.placeholder =
    conversation.kind === 'channel' ? `Message #${conversation.channel.name} · type / for commands` : `Message ${state.app.name} · try /incident help`;
  const start = state.channels.find((channel) => channel.id === state.startChannel);
  const suggestions = conversation.kind === 'channel' ? conversation.channel.suggestions : (start?.suggestions ?? []);
  byId('suggestions').replaceChildren(
    element('span', 'suggestions-label', 'Try'),
    ...suggestions.map((suggestion) => {
      const chip = element('button', 'suggestion', suggestion.label);
      chip.type = 'button';
      chip.title = suggestion.text;
      chip.addEventListener('click', () => {
        input.value = suggestion.text;
        input.focus();
        renderCommandMenu();
      });
      return chip;
    }),
  );
}

/** Slack's command picker: while the first word is being typed, the app's commands that match. */
function renderCommandMenu() {
  const menu = byId('command-menu');
  const typed = /^\/\S*$/.exec(input.value)?.[0];
  const matches = typed ? page.state.commands.filter((command) => command.command.startsWith(typed)) : [];
  menu.hidden = matches.length === 0;
  menu.replaceChildren(
    ...matches.map((command) => {
      const item = element(
        'button',
        'command',
        element('span', 'command-name', command.command),
        element('span', 'command-hint', command.usageHint),
        element('span', 'command-description', command.description),
      );
      item.type = 'button';
      item.addEventListener('click', () => completeCommand(command.command));
      return item;
    }),
  );
  return matches;
}

function completeCommand(command) {
  input.value = `${command} `;
  input.focus();
  renderCommandMenu();
}

function renderModal() {
  const { modal } = page.state;
  const layer = byId('modal-layer');
  if (!modal) {
    page.modal = null;
    layer.hidden = true;
    layer.replaceChildren();
    return;
  }
  // Kept while the app has not changed it, so what the person typed stays.
  if (page.modal?.id === modal.id && page.modal.hash === modal.hash) return;
  page.modal = { id: modal.id, hash: modal.hash };
  const { view } = modal;
  const body = element('div', 'modal-body', renderBlocks(view.blocks ?? [], blockContext((actionId) => act('/sandbox/actions', { actionId, target: { viewId: modal.id } }))));
  const problem = element('div', 'modal-problem');
  problem.setAttribute('role', 'alert');
  const close = element('button', 'modal-close', view.close?.text ?? 'Cancel');
  close.type = 'button';
  close.addEventListener('click', () => closeModal());
  const dismiss = element('button', 'modal-dismiss', '×');
  dismiss.type = 'button';
  dismiss.setAttribute('aria-label', 'Close');
  dismiss.addEventListener('click', () => closeModal());
  const footer = element('footer', 'modal-footer', close);
  const form = element('form', 'modal', element('header', 'modal-header', element('h2', 'modal-title', view.title?.text ?? ''), dismiss), body, problem, footer);
  form.setAttribute('role', 'dialog');
  form.setAttribute('aria-modal', 'true');
  form.setAttribute('aria-label', view.title?.text ?? 'Dialog');
  if (view.submit) {
    const submit = element('button', 'modal-submit', view.submit.text);
    submit.type = 'submit';
    footer.append(submit);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      problem.textContent = '';
      submit.disabled = true;
      const outcome = await act('/sandbox/views/submit', { viewId: modal.id, values: readInputValues(body) }, (text) => {
        problem.textContent = text;
      });
      submit.disabled = false;
      showInputErrors(body, outcome.errors ?? {});
    });
  }
  layer.replaceChildren(form);
  layer.hidden = false;
  /** @type {HTMLElement | null} */ (body.querySelector('input, textarea, select'))?.focus();
}

function closeModal() {
  if (page.modal) act('/sandbox/views/close', { viewId: page.modal.id });
}

/** A button's `confirm` dialog; resolves true when the person confirms. */
function confirmDialog(dialog) {
  return new Promise((resolve) => {
    const layer = element('div', 'modal-layer confirm-layer');
    const finish = (answer) => {
      layer.remove();
      resolve(answer);
    };
    const deny = element('button', 'modal-close', dialog.deny?.text ?? 'Cancel');
    deny.type = 'button';
    deny.addEventListener('click', () => finish(false));
    const confirm = element('button', `modal-submit${dialog.style === 'danger' ? ' danger' : ''}`, dialog.confirm?.text ?? 'Yes');
    confirm.type = 'button';
    confirm.addEventListener('click', () => finish(true));
    const text = dialog.text?.type === 'mrkdwn' ? renderMrkdwn(dialog.text.text, blockContext(() => {})) : (dialog.text?.text ?? '');
    layer.append(
      element(
        'div',
        'modal confirm',
        element('header', 'modal-header', element('h2', 'modal-title', dialog.title?.text ?? 'Are you sure?')),
        element('div', 'modal-body', text),
        element('footer', 'modal-footer', deny, confirm),
      ),
    );
    document.body.append(layer);
    confirm.focus();
  });
}

function renderLoad() {
  const { load } = page.state;
  /** @type {HTMLInputElement} */ (byId('simulate-load')).checked = load.enabled;
  byId('load-note').textContent = load.enabled
    ? `Every other post is answered "429, retry after 1 s"; Tandem waits and retries. ${load.rateLimited} so far.`
    : 'Off: the stand-in answers at once.';
}

let toastTimer = 0;
function showToast(text) {
  const toast = byId('toast');
  toast.textContent = text;
  toast.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = window.setTimeout(() => {
    toast.hidden = true;
  }, 6000);
}

// ---- what the person does --------------------------------------------------------

byId('person').addEventListener('change', (event) => {
  page.person = /** @type {HTMLSelectElement} */ (event.target).value;
  localStorage.setItem(storageKeys.person, page.person);
  refresh().then(() => {
    if (page.conversation === appHome) act('/sandbox/home', {});
  });
});

window.addEventListener('hashchange', () => {
  page.conversation = decodeURIComponent(location.hash.slice(1));
  byId('composer-problem').textContent = '';
  render();
  if (page.conversation === appHome) act('/sandbox/home', {});
});

byId('composer').addEventListener('submit', async (event) => {
  event.preventDefault();
  const text = input.value.trim();
  const conversation = conversationOf(page.conversation);
  if (!text || !conversation || conversation.kind === 'home') return;
  input.value = '';
  renderCommandMenu();
  byId('composer-problem').textContent = '';
  const outcome = await act('/sandbox/send', { channel: conversation.id, text }, (problem) => {
    byId('composer-problem').textContent = problem;
  });
  // Slack keeps what was typed when it could not be sent, so it can be fixed.
  if (outcome.problem && input.value === '') input.value = text;
});

input.addEventListener('input', () => {
  byId('composer-problem').textContent = '';
  renderCommandMenu();
});

input.addEventListener('keydown', (event) => {
  if (event.key !== 'Tab') return;
  const [first] = renderCommandMenu();
  if (!first) return;
  event.preventDefault();
  completeCommand(first.command);
});

byId('simulate-load').addEventListener('change', (event) => {
  post('/sandbox/load', { enabled: /** @type {HTMLInputElement} */ (event.target).checked }).catch((error) => showToast(error.message));
});

byId('welcome-close').addEventListener('click', () => {
  localStorage.setItem(storageKeys.welcomeHidden, 'true');
  byId('welcome').hidden = true;
});

document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && page.modal && !document.querySelector('.confirm-layer')) closeModal();
});

listen();
