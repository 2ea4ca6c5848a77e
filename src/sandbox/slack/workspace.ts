import { blockProblems, viewProblems } from './block-kit';
import { type PostingLimitOptions, PostingLimits } from './rate-limits';

/**
 * A Slack workspace in memory, answering the Web API methods Tandem uses with
 * Slack's response shapes and error codes. Tests and the sandbox drive Tandem
 * against it unmodified, through SLACK_API_URL.
 */

type Json = Record<string, unknown>;

export interface FakeUser {
  id: string;
  name: string;
  realName: string;
  email: string;
  tz: string;
  isBot?: boolean;
}

export interface FakeChannel {
  id: string;
  name: string;
  isPrivate: boolean;
  isArchived: boolean;
  isIm: boolean;
  members: Set<string>;
  created: number;
  creator: string;
}

export interface FakeMessage {
  channel: string;
  ts: string;
  user: string;
  botId?: string;
  text: string;
  blocks?: Json[];
  threadTs?: string;
  pinned: boolean;
  edited: boolean;
  /** Files shared with the message (files.completeUploadExternal). */
  files?: FakeFile[];
}

export interface FakeFile {
  id: string;
  name: string;
  title: string;
  /** The uploaded bytes, once the upload URL received them. */
  bytes?: Buffer;
}

export interface FakeEphemeral {
  channel: string;
  user: string;
  text: string;
  blocks?: Json[];
  /** A stand-in ts, so an ephemeral message's buttons can be clicked. */
  ts: string;
}

export interface FakeView {
  id: string;
  hash: string;
  user: string;
  view: Json;
  /** Set once the view was submitted or closed. */
  closed: boolean;
}

/** Where a response_url answers: the channel and person of the interaction, and the message acted on. */
export interface ResponseTarget {
  channel: string;
  user: string;
  sourceTs?: string;
  sourceIsEphemeral?: boolean;
}

export interface WebApiAnswer {
  status: number;
  headers: Record<string, string>;
  body: Json;
  /** How long the transport should wait before answering. */
  delayMs?: number;
}

export type InjectedFailure =
  | { error: string; extra?: Json }
  | { rateLimitedFor: number }
  | { httpStatus: number }
  /** Answers normally, but only after this long (a slow Slack). */
  | { delayMs: number }
  /** Carries the call out, then answers with this HTTP status: Slack did it, but its answer was lost on the way back. */
  | { lostAnswer: number };

export interface FakeSlackOptions {
  /** Where this stand-in is reachable, without a trailing slash; the Web API is at `${origin}/api/`. */
  origin: string;
  botToken?: string;
  teamId?: string;
  /** The bot token's scopes (as installed from the manifest); unset grants every scope. */
  scopes?: string[];
  /** Enforces Slack's posting rate limits with 429s; unset posts without limit. */
  postingLimits?: PostingLimitOptions;
}

const botUser: FakeUser = { id: 'U0TANDEMBOT', name: 'tandem', realName: 'Tandem', email: 'tandem@bots.invalid', tz: 'UTC', isBot: true };

export class FakeSlack {
  readonly origin: string;
  readonly botToken: string;
  readonly teamId: string;
  readonly botUserId = botUser.id;
  readonly botId = 'B0TANDEMBOT';
  readonly appId = 'A0TANDEMAPP';

  readonly users = new Map<string, FakeUser>([[botUser.id, botUser]]);
  readonly channels = new Map<string, FakeChannel>();
  readonly messages: FakeMessage[] = [];
  readonly ephemerals: FakeEphemeral[] = [];
  readonly views = new Map<string, FakeView>();
  readonly homes = new Map<string, Json>();
  /** Every Web API call, in order, for tests that assert what was (not) called. */
  readonly calls: Array<{ method: string; args: Json }> = [];
  readonly triggers = new Map<string, { user: string; used: boolean }>();

  private readonly responseUrls = new Map<string, ResponseTarget>();
  /** Files announced with files.getUploadURLExternal, by id. */
  readonly uploads = new Map<string, FakeFile & { length: number }>();
  private readonly failures: Array<{ method: string; failure: InjectedFailure; remaining: number }> = [];
  private clock = 1_700_000_000;
  private sequence = 0;

  private readonly scopes: Set<string> | undefined;
  /** Set when the workspace enforces posting limits; counts the posts it refused. */
  readonly postingLimits: PostingLimits | undefined;

  constructor(options: FakeSlackOptions) {
    this.origin = options.origin;
    this.postingLimits = options.postingLimits ? new PostingLimits(options.postingLimits) : undefined;
    this.scopes = options.scopes ? new Set(options.scopes) : undefined;
    this.botToken = options.botToken ?? 'xoxb-sandbox-token';
    this.teamId = options.teamId ?? 'T0SANDBOX';
  }

  get apiUrl(): string {
    return `${this.origin}/api/`;
  }

  // ---- setting up the workspace ------------------------------------------------

  addUser(user: Partial<FakeUser> & { id: string; name: string }): FakeUser {
    const full: FakeUser = {
      realName: user.name,
      email: `${user.name}@example.com`,
      tz: 'UTC',
      ...user,
    };
    this.users.set(full.id, full);
    return full;
  }

  addChannel(channel: { id?: string; name: string; isPrivate?: boolean; members?: string[]; botIsMember?: boolean }): FakeChannel {
    const id = channel.id ?? this.nextId(channel.isPrivate ? 'G' : 'C');
    const members = new Set(channel.members ?? []);
    if (channel.botIsMember ?? true) members.add(this.botUserId);
    const full: FakeChannel = {
      id,
      name: channel.name,
      isPrivate: channel.isPrivate ?? false,
      isArchived: false,
      isIm: false,
      members,
      created: this.clock,
      creator: members.values().next().value ?? this.botUserId,
    };
    this.channels.set(id, full);
    return full;
  }

  /** The next `times` calls of `method` fail this way. */
  failNext(method: string, failure: InjectedFailure, times = 1): void {
    this.failures.push({ method, failure, remaining: times });
  }

  issueTrigger(user: string): string {
    const id = `${this.nextNumber()}.${this.nextNumber()}.${Math.random().toString(16).slice(2, 18)}`;
    this.triggers.set(id, { user, used: false });
    return id;
  }

  // ---- reading the workspace -----------------------------------------------------

  channelByName(name: string): FakeChannel | undefined {
    return [...this.channels.values()].find((channel) => channel.name === name);
  }

  messagesIn(channel: string): FakeMessage[] {
    return this.messages.filter((message) => message.channel === channel);
  }

  ephemeralsFor(user: string): FakeEphemeral[] {
    return this.ephemerals.filter((message) => message.user === user);
  }

  openViews(user: string): FakeView[] {
    return [...this.views.values()].filter((view) => view.user === user && !view.closed);
  }

  callsOf(method: string): Json[] {
    return this.calls.filter((call) => call.method === method).map((call) => call.args);
  }

  /** The DM channel between a user and the app (created on first message, as Slack does). */
  imWith(user: string): FakeChannel {
    const existing = [...this.channels.values()].find((channel) => channel.isIm && channel.members.has(user));
    if (existing) return existing;
    const channel: FakeChannel = {
      id: this.nextId('D'),
      name: user,
      isPrivate: true,
      isArchived: false,
      isIm: true,
      members: new Set([user, this.botUserId]),
      created: this.clock,
      creator: this.botUserId,
    };
    this.channels.set(channel.id, channel);
    return channel;
  }

  // ---- the Web API ---------------------------------------------------------------

  handle(method: string, args: Json, authorization: string | undefined): WebApiAnswer {
    this.calls.push({ method, args });
    const injected = this.takeFailure(method);
    if (injected && 'lostAnswer' in injected.failure) {
      this.answer(method, args, authorization);
      return injected.answer;
    }
    if (injected && !('delayMs' in injected.failure)) return injected.answer;
    const delayMs = injected && 'delayMs' in injected.failure ? injected.failure.delayMs : undefined;
    const retryAfter = method === 'chat.postMessage' ? this.postingLimits?.admit(String(args.channel ?? '')) : 0;
    if (retryAfter) return rateLimited(retryAfter);
    const answer = this.answer(method, args, authorization);
    return delayMs ? { ...answer, delayMs } : answer;
  }

  private answer(method: string, args: Json, authorization: string | undefined): WebApiAnswer {
    if (authorization !== `Bearer ${this.botToken}` && args.token !== this.botToken) return this.error('invalid_auth');
    const handler = this.methods[method];
    if (!handler) return this.error('unknown_method');
    const needed = this.scopeNeeded(method, args);
    if (needed && this.scopes && !this.scopes.has(needed)) {
      return this.error('missing_scope', { needed, provided: [...this.scopes].join(',') });
    }
    try {
      return ok(handler(args));
    } catch (error) {
      if (error instanceof SlackApiError) return this.error(error.code, error.extra);
      throw error;
    }
  }

  /** A response_url for an interaction; posting to it answers in the right place. */
  responseUrlFor(target: ResponseTarget): string {
    const id = `${this.nextNumber()}${Math.random().toString(36).slice(2, 10)}`;
    this.responseUrls.set(id, target);
    return `${this.origin}/response/${id}`;
  }

  handleResponseUrl(id: string, body: Json): WebApiAnswer {
    const target = this.responseUrls.get(id);
    if (!target) return { status: 404, headers: {}, body: { ok: false, error: 'expired_url' } };
    this.respond(target, body);
    return ok({});
  }

  /** The bytes of a file, posted to the upload_url Slack handed out; Slack answers "OK - <size>". */
  handleUpload(id: string, bytes: Buffer): WebApiAnswer {
    const upload = this.uploads.get(id);
    if (!upload) return { status: 404, headers: {}, body: { ok: false, error: 'file_not_found' } };
    upload.bytes = bytes;
    return { status: 200, headers: {}, body: { ok: true, size: bytes.length } };
  }

  /** A POST to a response_url: an ephemeral or in-channel reply, or a change to the source message. */
  respond(target: ResponseTarget, body: Json): void {
    const text = String(body.text ?? '');
    const blocks = body.blocks as Json[] | undefined;
    if (body.delete_original === true && target.sourceTs) {
      this.removeSource(target);
      return;
    }
    if (body.replace_original === true && target.sourceTs) {
      const source = target.sourceIsEphemeral
        ? this.ephemerals.find((message) => message.ts === target.sourceTs)
        : this.messages.find((message) => message.channel === target.channel && message.ts === target.sourceTs);
      if (source) {
        source.text = text;
        source.blocks = blocks;
        return;
      }
    }
    if (body.response_type === 'in_channel') {
      this.post(target.channel, { text, blocks });
    } else {
      this.ephemerals.push({ channel: target.channel, user: target.user, text, blocks, ts: this.nextTs() });
    }
  }

  private readonly methods: Record<string, (args: Json) => Json> = {
    'auth.test': () => ({
      url: 'https://sandbox.slack.invalid/',
      team: 'Sandbox',
      user: botUser.name,
      team_id: this.teamId,
      user_id: this.botUserId,
      bot_id: this.botId,
      is_enterprise_install: false,
    }),

    'conversations.create': (args) => {
      const name = String(args.name ?? '');
      if (!name) throw new SlackApiError('invalid_name_required');
      if (name.length > 80) throw new SlackApiError('invalid_name_maxlength');
      if (!/^[a-z0-9_-]+$/.test(name)) throw new SlackApiError('invalid_name_specials');
      if (this.channelByName(name)) throw new SlackApiError('name_taken');
      const channel = this.addChannel({ name, isPrivate: args.is_private === true || args.is_private === 'true' });
      return { channel: this.channelJson(channel) };
    },

    'conversations.list': (args) => {
      const types = String(args.types ?? 'public_channel').split(',');
      const listed = [...this.channels.values()].filter(
        (channel) =>
          !channel.isIm &&
          types.includes(channel.isPrivate ? 'private_channel' : 'public_channel') &&
          (!channel.isPrivate || channel.members.has(this.botUserId)) &&
          !(channel.isArchived && (args.exclude_archived === true || args.exclude_archived === 'true')),
      );
      const start = Number(args.cursor || 0);
      const limit = Math.min(1000, Number(args.limit ?? 100));
      const page = listed.slice(start, start + limit);
      const next = start + limit < listed.length ? String(start + limit) : '';
      return { channels: page.map((channel) => this.channelJson(channel)), response_metadata: { next_cursor: next } };
    },

    'conversations.info': (args) => ({ channel: this.channelJson(this.visibleChannel(args.channel)) }),

    'conversations.join': (args) => {
      const channel = this.visibleChannel(args.channel);
      if (channel.isPrivate) throw new SlackApiError('method_not_supported_for_channel_type');
      if (channel.isArchived) throw new SlackApiError('is_archived');
      channel.members.add(this.botUserId);
      return { channel: this.channelJson(channel) };
    },

    'conversations.invite': (args) => {
      const channel = this.visibleChannel(args.channel);
      if (!channel.members.has(this.botUserId)) throw new SlackApiError('not_in_channel');
      if (channel.isArchived) throw new SlackApiError('is_archived');
      const users = String(args.users ?? '')
        .split(',')
        .map((user) => user.trim())
        .filter(Boolean);
      if (users.length === 0) throw new SlackApiError('no_user');
      const errors: Array<{ user: string; ok: false; error: string }> = [];
      const valid: string[] = [];
      for (const user of users) {
        if (user === this.botUserId) errors.push({ user, ok: false, error: 'cant_invite_self' });
        else if (!this.users.has(user)) errors.push({ user, ok: false, error: 'user_not_found' });
        else if (channel.members.has(user)) errors.push({ user, ok: false, error: 'already_in_channel' });
        else valid.push(user);
      }
      const force = args.force === true || args.force === 'true';
      if (errors.length > 0 && (!force || valid.length === 0)) {
        throw new SlackApiError(errors[0]!.error, { errors });
      }
      for (const user of valid) channel.members.add(user);
      return { channel: this.channelJson(channel), ...(errors.length > 0 ? { errors } : {}) };
    },

    'conversations.members': (args) => ({ members: [...this.visibleChannel(args.channel).members] }),

    'chat.postMessage': (args) => {
      const channel = this.writableChannel(args.channel);
      this.checkMessage(args);
      const message = this.post(channel.id, {
        text: String(args.text ?? ''),
        blocks: args.blocks as Json[] | undefined,
        threadTs: args.thread_ts as string | undefined,
      });
      return { channel: channel.id, ts: message.ts, message: this.messageJson(message) };
    },

    'chat.postEphemeral': (args) => {
      const channel = this.writableChannel(args.channel);
      const user = String(args.user ?? '');
      if (!channel.members.has(user)) throw new SlackApiError('user_not_in_channel');
      this.checkMessage(args);
      const ts = this.nextTs();
      this.ephemerals.push({ channel: channel.id, user, text: String(args.text ?? ''), blocks: args.blocks as Json[] | undefined, ts });
      return { message_ts: ts };
    },

    'chat.update': (args) => {
      const channel = this.writableChannel(args.channel);
      const message = this.messages.find((candidate) => candidate.channel === channel.id && candidate.ts === args.ts);
      if (!message) throw new SlackApiError('message_not_found');
      if (message.user !== this.botUserId) throw new SlackApiError('cant_update_message');
      this.checkMessage(args);
      message.text = String(args.text ?? message.text);
      if (args.blocks !== undefined) message.blocks = args.blocks as Json[];
      message.edited = true;
      return { channel: channel.id, ts: message.ts, text: message.text, message: this.messageJson(message) };
    },

    'chat.getPermalink': (args) => {
      const channel = this.visibleChannel(args.channel);
      const message = this.messages.find((candidate) => candidate.channel === channel.id && candidate.ts === args.message_ts);
      if (!message) throw new SlackApiError('message_not_found');
      return { channel: channel.id, permalink: `${this.origin}/archives/${channel.id}/p${message.ts.replace('.', '')}` };
    },

    'pins.add': (args) => {
      const channel = this.visibleChannel(args.channel);
      if (!channel.members.has(this.botUserId)) throw new SlackApiError('not_in_channel');
      const message = this.messages.find((candidate) => candidate.channel === channel.id && candidate.ts === args.timestamp);
      if (!message) throw new SlackApiError('message_not_found');
      if (message.pinned) throw new SlackApiError('already_pinned');
      message.pinned = true;
      return {};
    },

    'views.open': (args) => {
      const trigger = this.triggers.get(String(args.trigger_id ?? ''));
      if (!trigger) throw new SlackApiError('invalid_trigger_id');
      if (trigger.used) throw new SlackApiError('exchanged_trigger_id');
      const view = this.parseView(args.view);
      trigger.used = true;
      const opened: FakeView = { id: this.nextId('V'), hash: this.nextHash(), user: trigger.user, view, closed: false };
      this.views.set(opened.id, opened);
      return { view: this.viewJson(opened) };
    },

    'views.update': (args) => {
      const existing = this.views.get(String(args.view_id ?? ''));
      if (!existing || existing.closed) throw new SlackApiError('not_found');
      if (args.hash !== undefined && args.hash !== existing.hash) throw new SlackApiError('hash_conflict');
      existing.view = this.parseView(args.view);
      existing.hash = this.nextHash();
      return { view: this.viewJson(existing) };
    },

    'views.publish': (args) => {
      const user = String(args.user_id ?? '');
      if (!this.users.has(user)) throw new SlackApiError('user_not_found');
      const view = this.parseView(args.view);
      if (view.type !== 'home') throw new SlackApiError('invalid_arguments', { response_metadata: { messages: ['view.type must be home'] } });
      this.homes.set(user, view);
      return { view: { ...view, id: this.nextId('V'), hash: this.nextHash() } };
    },

    'files.getUploadURLExternal': (args) => {
      const filename = String(args.filename ?? '');
      const length = Number(args.length);
      if (!filename || !Number.isInteger(length) || length <= 0) throw new SlackApiError('invalid_arguments');
      const id = this.nextId('F');
      this.uploads.set(id, { id, name: filename, title: filename, length });
      return { upload_url: `${this.origin}/upload/${id}`, file_id: id };
    },

    'files.completeUploadExternal': (args) => {
      const requested = (typeof args.files === 'string' ? JSON.parse(args.files) : args.files) as Array<{ id: string; title?: string }> | undefined;
      if (!Array.isArray(requested) || requested.length === 0) throw new SlackApiError('invalid_arguments');
      const files = requested.map(({ id, title }) => {
        const upload = this.uploads.get(id);
        if (!upload?.bytes) throw new SlackApiError('file_not_found');
        return { ...upload, title: title ?? upload.name };
      });
      if (args.channel_id !== undefined) {
        const channel = this.writableChannel(args.channel_id);
        const message = this.post(channel.id, {
          text: String(args.initial_comment ?? ''),
          threadTs: args.thread_ts as string | undefined,
        });
        message.files = files;
      }
      return { files: files.map((file) => ({ id: file.id, name: file.name, title: file.title })) };
    },

    'users.info': (args) => ({ user: this.userJson(this.requireUser(args.user)) }),

    'users.lookupByEmail': (args) => {
      const email = String(args.email ?? '').toLowerCase();
      const user = [...this.users.values()].find((candidate) => candidate.email.toLowerCase() === email);
      if (!user) throw new SlackApiError('users_not_found');
      return { user: this.userJson(user) };
    },
  };

  // ---- internals -------------------------------------------------------------------

  /** The bot scope Slack requires for this call, when it requires one. */
  private scopeNeeded(method: string, args: Json): string | undefined {
    const channel = this.channels.get(String(args.channel ?? ''));
    const privateChannel = channel?.isPrivate ?? (args.is_private === true || args.is_private === 'true');
    switch (method) {
      case 'conversations.create':
      case 'conversations.invite':
        return privateChannel ? 'groups:write' : 'channels:manage';
      case 'conversations.info':
      case 'conversations.members':
        return privateChannel ? 'groups:read' : 'channels:read';
      case 'conversations.list':
        return String(args.types ?? '').includes('private_channel') ? 'groups:read' : 'channels:read';
      case 'conversations.join':
        return 'channels:join';
      case 'chat.postMessage':
        if (channel && !channel.isPrivate && !channel.members.has(this.botUserId) && this.scopes && !this.scopes.has('chat:write.public')) {
          return 'chat:write.public';
        }
        return 'chat:write';
      case 'chat.postEphemeral':
      case 'chat.update':
        return 'chat:write';
      case 'pins.add':
        return 'pins:write';
      case 'users.info':
        return 'users:read';
      case 'users.lookupByEmail':
        return 'users:read.email';
      case 'files.getUploadURLExternal':
      case 'files.completeUploadExternal':
        return 'files:write';
      default:
        return undefined;
    }
  }

  post(channel: string, message: { text: string; blocks?: Json[]; threadTs?: string; user?: string }): FakeMessage {
    const posted: FakeMessage = {
      channel,
      ts: this.nextTs(),
      user: message.user ?? this.botUserId,
      ...(message.user ? {} : { botId: this.botId }),
      text: message.text,
      blocks: message.blocks,
      threadTs: message.threadTs,
      pinned: false,
      edited: false,
    };
    this.messages.push(posted);
    return posted;
  }

  private removeSource(target: { channel: string; sourceTs?: string; sourceIsEphemeral?: boolean }) {
    const list: Array<{ ts: string }> = target.sourceIsEphemeral ? this.ephemerals : this.messages;
    const index = list.findIndex((message) => message.ts === target.sourceTs);
    if (index >= 0) list.splice(index, 1);
  }

  private takeFailure(method: string): { failure: InjectedFailure; answer: WebApiAnswer } | undefined {
    const index = this.failures.findIndex((entry) => entry.method === method);
    if (index < 0) return undefined;
    const entry = this.failures[index]!;
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.failures.splice(index, 1);
    const { failure } = entry;
    if ('rateLimitedFor' in failure) return { failure, answer: rateLimited(failure.rateLimitedFor) };
    if ('httpStatus' in failure) return { failure, answer: { status: failure.httpStatus, headers: {}, body: { ok: false, error: 'fatal_error' } } };
    if ('delayMs' in failure) return { failure, answer: ok({}) };
    if ('lostAnswer' in failure) return { failure, answer: { status: failure.lostAnswer, headers: {}, body: { ok: false, error: 'fatal_error' } } };
    return { failure, answer: this.error(failure.error, failure.extra) };
  }

  private error(code: string, extra: Json = {}): WebApiAnswer {
    return { status: 200, headers: {}, body: { ok: false, error: code, ...extra } };
  }

  private visibleChannel(id: unknown): FakeChannel {
    const channel = this.channels.get(String(id ?? ''));
    if (!channel || (channel.isPrivate && !channel.members.has(this.botUserId))) throw new SlackApiError('channel_not_found');
    return channel;
  }

  /** Public channels accept posts without joining (chat:write.public); private ones need membership. */
  private writableChannel(id: unknown): FakeChannel {
    const target = String(id ?? '');
    if (/^[UW]/.test(target)) {
      this.requireUser(target);
      return this.imWith(target);
    }
    const channel = this.channels.get(target);
    if (!channel) throw new SlackApiError('channel_not_found');
    if (channel.isPrivate && !channel.members.has(this.botUserId)) throw new SlackApiError('channel_not_found');
    if (channel.isArchived) throw new SlackApiError('is_archived');
    return channel;
  }

  private requireUser(id: unknown): FakeUser {
    const user = this.users.get(String(id ?? ''));
    if (!user) throw new SlackApiError('user_not_found');
    return user;
  }

  private checkMessage(args: Json) {
    const text = args.text;
    const blocks = args.blocks;
    if ((text === undefined || text === '') && (blocks === undefined || (Array.isArray(blocks) && blocks.length === 0))) {
      throw new SlackApiError('no_text');
    }
    if (typeof text === 'string' && text.length > 40_000) throw new SlackApiError('msg_too_long');
    const problems = blockProblems(blocks, 50);
    if (problems.length > 0) throw new SlackApiError('invalid_blocks', { errors: problems });
  }

  private parseView(raw: unknown): Json {
    const view = (typeof raw === 'string' ? JSON.parse(raw) : raw) as Json | undefined;
    if (!view || typeof view !== 'object') throw new SlackApiError('invalid_arguments');
    const problems = viewProblems(view);
    if (problems.length > 0) throw new SlackApiError('invalid_arguments', { response_metadata: { messages: problems } });
    return view;
  }

  private channelJson(channel: FakeChannel): Json {
    return {
      id: channel.id,
      name: channel.name,
      name_normalized: channel.name,
      is_channel: !channel.isPrivate && !channel.isIm,
      is_group: channel.isPrivate && !channel.isIm,
      is_im: channel.isIm,
      is_private: channel.isPrivate,
      is_archived: channel.isArchived,
      is_general: false,
      is_member: channel.members.has(this.botUserId),
      created: channel.created,
      creator: channel.creator,
      topic: { value: '', creator: '', last_set: 0 },
      purpose: { value: '', creator: '', last_set: 0 },
      num_members: channel.members.size,
    };
  }

  private messageJson(message: FakeMessage): Json {
    return {
      type: 'message',
      user: message.user,
      ...(message.botId ? { bot_id: message.botId, app_id: this.appId } : {}),
      text: message.text,
      ts: message.ts,
      ...(message.blocks ? { blocks: message.blocks } : {}),
      ...(message.threadTs ? { thread_ts: message.threadTs } : {}),
      team: this.teamId,
    };
  }

  private viewJson(view: FakeView): Json {
    return {
      ...view.view,
      id: view.id,
      team_id: this.teamId,
      state: { values: {} },
      hash: view.hash,
      private_metadata: view.view.private_metadata ?? '',
      callback_id: view.view.callback_id ?? '',
      root_view_id: view.id,
      app_id: this.appId,
      bot_id: this.botId,
      previous_view_id: null,
    };
  }

  private userJson(user: FakeUser): Json {
    return {
      id: user.id,
      team_id: this.teamId,
      name: user.name,
      real_name: user.realName,
      tz: user.tz,
      is_bot: user.isBot ?? false,
      deleted: false,
      profile: { email: user.email, real_name: user.realName, display_name: user.name },
    };
  }

  nextTs(): string {
    this.clock += 1;
    return `${this.clock}.${String(this.nextNumber()).padStart(6, '0')}`;
  }

  private nextNumber(): number {
    this.sequence += 1;
    return this.sequence;
  }

  private nextId(prefix: string): string {
    return `${prefix}0${String(this.nextNumber()).padStart(8, '0')}`;
  }

  private nextHash(): string {
    return `${this.clock}.${this.nextNumber().toString(36)}`;
  }
}

class SlackApiError extends Error {
  constructor(
    readonly code: string,
    readonly extra: Json = {},
  ) {
    super(code);
  }
}

const ok = (body: Json): WebApiAnswer => ({ status: 200, headers: {}, body: { ok: true, ...body } });

const rateLimited = (seconds: number): WebApiAnswer => ({
  status: 429,
  headers: { 'retry-after': String(seconds) },
  body: { ok: false, error: 'ratelimited' },
});

/** Reads a Web API request body the way Slack does: form fields (JSON-encoded where structured) or JSON. */
export function parseWebApiBody(contentType: string | null, raw: string): Json {
  if (contentType?.includes('application/json')) return raw ? (JSON.parse(raw) as Json) : {};
  const params = new URLSearchParams(raw);
  const args: Json = {};
  for (const [key, value] of params) {
    args[key] = /^[[{]/.test(value) ? safeJson(value) : value;
  }
  return args;
}

function safeJson(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** The file in an upload: the first file part of a multipart body (what the Web API client sends), or the raw body. */
export async function uploadedBytes(contentType: string | null, raw: Buffer): Promise<Buffer> {
  if (!contentType?.includes('multipart/form-data')) return raw;
  const form = await new Response(raw, { headers: { 'content-type': contentType } }).formData();
  for (const value of form.values()) {
    if (typeof value !== 'string') return Buffer.from(await value.arrayBuffer());
  }
  return raw;
}
