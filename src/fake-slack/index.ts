/**
 * The stand-in Slack: a workspace in memory that answers the Web API like Slack
 * (FakeSlack), an HTTP server for it, and a simulator that sends signed commands,
 * clicks and submissions the way Slack does. The tests' Slack and the sandbox's
 * engine; it imports nothing from Tandem but src/time.ts (the clock that signs requests).
 */
export { blockProblems } from './block-kit';
export { parseWebApiBody, uploadedBytes } from './http-body';
export { PostingLimits } from './rate-limits';
export { createFakeSlackServer, type SandboxSlack, startSandboxSlack } from './server';
export { type Delivery, type EventOptions, type InputValue, InvalidInteraction, SlackSimulator, signSlackRequest } from './simulator';
export type { FakeChannel, FakeEphemeral, FakeMessage, WebApiAnswer } from './types';
export { FakeSlack } from './workspace';
