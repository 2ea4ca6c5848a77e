import type { Clock } from '../time';
import type { PostingLimitOptions } from './rate-limits';

/** The records a FakeSlack workspace keeps, and what its Web API answers with. */

export type Json = Record<string, unknown>;

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
  /** Reactions by name, each with the people who reacted, in order. */
  reactions?: Array<{ name: string; users: string[] }>;
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
  /** Message timestamps follow this clock; unset, they count up from November 2023. */
  clock?: Clock;
  /** Enforces Slack's posting rate limits with 429s; unset posts without limit. */
  postingLimits?: PostingLimitOptions;
}

/** One Slack API family's methods: each takes the call's arguments and returns the body of an `ok` answer, or throws SlackApiError. */
export type WebApiMethods = Record<string, (args: Json) => Json>;
