import type { Clock } from '../time';
import { ok, rateLimited, SlackApiError, slackError } from './answers';
import { InjectedFailures } from './failures';
import { chatMethods } from './chat';
import { conversationsMethods } from './conversations';
import { filesMethods } from './files';
import { pinsMethods } from './pins';
import { PostingLimits } from './rate-limits';
import { applyResponse } from './responses';
import { scopeNeeded } from './scopes';
import type {
  FakeChannel,
  FakeEphemeral,
  FakeFile,
  FakeMessage,
  FakeSlackOptions,
  FakeUser,
  FakeView,
  InjectedFailure,
  Json,
  ResponseTarget,
  WebApiAnswer,
  WebApiMethods,
} from './types';
import { botUser, usersMethods } from './users';
import { viewsMethods } from './views';

/**
 * A Slack workspace in memory, answering the Web API methods Tandem uses with
 * Slack's response shapes and error codes. Tests and the sandbox drive Tandem
 * against it unmodified, through SLACK_API_URL.
 */

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
  private readonly failures = new InjectedFailures();
  private clock = 1_700_000_000;
  private sequence = 0;

  private readonly scopes: Set<string> | undefined;
  /** Set when the workspace enforces posting limits; counts the posts it refused. */
  readonly postingLimits: PostingLimits | undefined;

  /** When set, message timestamps follow this clock (as Slack's follow real time), so they agree with the app's. */
  private readonly timeSource: Clock | undefined;

  constructor(options: FakeSlackOptions) {
    this.origin = options.origin;
    this.timeSource = options.clock;
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
    this.failures.add(method, failure, times);
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

  /** Every method this workspace answers, by API family; a method missing here is `unknown_method`. */
  private readonly methods: WebApiMethods = {
    ...usersMethods(this),
    ...conversationsMethods(this),
    ...chatMethods(this),
    ...pinsMethods(this),
    ...viewsMethods(this),
    ...filesMethods(this),
  };

  handle(method: string, args: Json, authorization: string | undefined): WebApiAnswer {
    this.calls.push({ method, args });
    const injected = this.failures.take(method);
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
    if (authorization !== `Bearer ${this.botToken}` && args.token !== this.botToken) return slackError('invalid_auth');
    const handler = this.methods[method];
    if (!handler) return slackError('unknown_method');
    const needed = scopeNeeded(this, this.scopes, method, args);
    if (needed && this.scopes && !this.scopes.has(needed)) {
      return slackError('missing_scope', { needed, provided: [...this.scopes].join(',') });
    }
    try {
      return ok(handler(args));
    } catch (error) {
      if (error instanceof SlackApiError) return slackError(error.code, error.extra);
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
    const injected = this.failures.take('upload');
    if (injected) return injected.answer;
    const upload = this.uploads.get(id);
    if (!upload) return { status: 404, headers: {}, body: { ok: false, error: 'file_not_found' } };
    upload.bytes = bytes;
    return { status: 200, headers: {}, body: { ok: true, size: bytes.length } };
  }

  /** A POST to a response_url: an ephemeral or in-channel reply, or a change to the source message. */
  respond(target: ResponseTarget, body: Json): void {
    applyResponse(this, target, body);
  }

  // ---- internals, shared with the API family handlers ----------------------------

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

  visibleChannel(id: unknown): FakeChannel {
    const channel = this.channels.get(String(id ?? ''));
    if (!channel || (channel.isPrivate && !channel.members.has(this.botUserId))) throw new SlackApiError('channel_not_found');
    return channel;
  }

  /** Public channels accept posts without joining (chat:write.public); private ones need membership. */
  writableChannel(id: unknown): FakeChannel {
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

  requireUser(id: unknown): FakeUser {
    const user = this.users.get(String(id ?? ''));
    if (!user) throw new SlackApiError('user_not_found');
    return user;
  }

  /** A message ts: the workspace clock's second (never going back) and a unique, rising sequence. */
  nextTs(): string {
    const now = this.timeSource ? Math.floor(this.timeSource.now().getTime() / 1000) : this.clock + 1;
    this.clock = Math.max(this.clock + (this.timeSource ? 0 : 1), now);
    return `${this.clock}.${String(this.nextNumber()).padStart(6, '0')}`;
  }

  private nextNumber(): number {
    this.sequence += 1;
    return this.sequence;
  }

  nextId(prefix: string): string {
    return `${prefix}0${String(this.nextNumber()).padStart(8, '0')}`;
  }

  nextHash(): string {
    return `${this.clock}.${this.nextNumber().toString(36)}`;
  }
}
