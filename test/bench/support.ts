import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import autocannon from 'autocannon';
import postgres from 'postgres';

/** Shared plumbing for benchmarks: a scratch PostgreSQL database, child processes, load and a table. */

export const adminUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export async function postgresReachable(): Promise<boolean> {
  const admin = postgres(adminUrl, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await admin`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await admin.end({ timeout: 1 }).catch(() => {});
  }
}

export async function scratchDatabase(name: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`drop database if exists ${name} with (force)`);
  await admin.unsafe(`create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end({ timeout: 5 });
    },
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Starts an entry point as its own process (TypeScript through the tsx loader, JavaScript with plain node) and waits until `ready` answers 200. */
export async function startProcess(entry: string, env: Record<string, string>, ready: string): Promise<ChildProcess> {
  return (await startTimed(entry.endsWith('.ts') ? ['--import', 'tsx', entry] : [entry], env, ready)).child;
}

export interface Started {
  child: ChildProcess;
  /** From spawning the process to the first 200 from its readiness URL. */
  readyMs: number;
}

/** Spawns `command args` (node itself unless told otherwise) and times it to its first 200 at `ready`, polled every 10 ms. */
export async function startTimed(args: string[], env: Record<string, string>, ready: string, command = process.execPath): Promise<Started> {
  const started = performance.now();
  const child = spawn(command, args, {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', process.env.BENCH_CHILD_LOGS ? 'inherit' : 'ignore', 'inherit'],
  });
  const deadline = started + 60_000;
  while (performance.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited with ${child.exitCode}`);
    const answered = await fetch(ready).then(
      (response) => response.ok,
      () => false,
    );
    if (answered) return { child, readyMs: performance.now() - started };
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  child.kill();
  throw new Error(`${args.join(' ')} did not become ready at ${ready}`);
}

/** Stops a child with SIGTERM and waits for it to exit. */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** A process's resident memory now and at its peak, in MB, from /proc (Linux). */
export function memoryOf(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'))?.[1] ?? Number.NaN);
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
}

/** CPU seconds a process has used so far (user + system), from /proc (Linux). */
export function cpuSecondsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // After "pid (comm) ", utime and stime are the 12th and 13th fields, in clock ticks (100 a second).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The one child process of `pid` (npm's shell after `exec`, the server), from /proc (Linux). */
export function childPidOf(pid: number): number | undefined {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  return children.length > 0 ? Number(children[0]) : undefined;
}

export interface LoadResult {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

export async function load(url: string, headers: Record<string, string>, connections: number, seconds: number): Promise<LoadResult> {
  const result = await autocannon({ url, headers, connections, duration: seconds, pipelining: 1 });
  return {
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
  };
}

export function printTable(title: string, header: string[], rows: Array<Array<string | number>>): void {
  const cells = [header, ...rows.map((row) => row.map(String))];
  const widths = header.map((_, column) => Math.max(...cells.map((row) => row[column]!.length)));
  console.log(`\n${title}`);
  for (const [index, row] of cells.entries()) {
    console.log(row.map((cell, column) => cell.padEnd(widths[column]!)).join('  '));
    if (index === 0) console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  }
}

/** Nearest-rank percentile of `values` (unsorted), `fraction` from 0 to 1. */
export function percentile(values: number[], fraction: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))]!;
}

export interface PacedRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface PacedResult {
  sent: number;
  p50: number;
  p99: number;
  max: number;
  /** Errors and non-2xx answers. */
  bad: number;
}

/**
 * Open-loop load at a steady rate, as Slack sends commands: request i is due at
 * start + i / rate whatever became of the ones before it, over keep-alive
 * connections, and its latency counts from when it was due, so a stall delays every
 * request due during it (no coordinated omission). autocannon's rate mode instead
 * sends each second's requests back to back at the start of the second, which
 * measures how long a burst takes to drain.
 */
export async function paced(origin: string, rate: number, seconds: number, next: () => PacedRequest): Promise<PacedResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const total = Math.round(rate * seconds);
  const latencies: number[] = [];
  let bad = 0;
  const send = (due: number) =>
    new Promise<void>((resolve) => {
      const { path, headers, body } = next();
      const request = httpRequest(`${origin}${path}`, { method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (response) => {
        response.resume();
        response.on('end', () => {
          latencies.push(performance.now() - due);
          if (response.statusCode === undefined || response.statusCode >= 300) bad += 1;
          resolve();
        });
      });
      request.on('error', () => {
        bad += 1;
        resolve();
      });
      request.end(body);
    });
  const started = performance.now();
  const inFlight: Array<Promise<void>> = [];
  for (let index = 0; index < total; ) {
    const now = performance.now();
    // Everything due by now goes out now: a late timer makes requests late, not fewer.
    while (index < total && started + (index * 1000) / rate <= now) {
      inFlight.push(send(started + (index * 1000) / rate));
      index += 1;
    }
    if (index < total) await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + (index * 1000) / rate - performance.now())));
  }
  await Promise.all(inFlight);
  agent.destroy();
  return { sent: total, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), max: Math.max(...latencies), bad };
}
