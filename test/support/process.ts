import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { type FakeSlack, type SandboxSlack, startSandboxSlack } from '../../src/fake-slack';

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Running {
  child: ChildProcess;
  output: () => { stdout: string; stderr: string };
  finished: Promise<Finished>;
}

const root = new URL('../..', import.meta.url).pathname;

/** Runs a Tandem entry point as its own process: TypeScript (src/main.ts) through the loader, the build (dist/main.js) as `npm start` does. */
export function runTandem(entry: string, args: string[], env: Record<string, string>): Running {
  const loader = entry.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...loader, entry, ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const finished = once(child, 'exit').then(([code, signal]) => ({ code, signal, stdout, stderr }) as Finished);
  return { child, output: () => ({ stdout, stderr }), finished };
}

/** Waits for a line of output that matches, or fails with everything printed so far. */
export async function waitForOutput(running: Running, pattern: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { stdout, stderr } = running.output();
    const match = stdout.match(pattern) ?? stderr.match(pattern);
    if (match) return match;
    if (running.child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`no output matching ${pattern}\nstdout:\n${stdout}\nstderr:\n${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A fake Slack served over HTTP on a free port, for Tandem running as a separate process. */
export const serveFakeSlack = (): Promise<SandboxSlack<FakeSlack>> => startSandboxSlack();
