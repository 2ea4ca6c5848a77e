import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The project's own files (migrations, manifests, the sandbox page) by their path in
 * the repository. This module runs from src/ under the TypeScript loader and from a
 * bundle in dist/ after `npm start` builds it, so the root is found by walking up to
 * package.json rather than by a fixed number of `..`.
 */
export function projectFile(relative: string): string {
  return path.join(projectRoot(), relative);
}

let root: string | undefined;

function projectRoot(): string {
  if (root) return root;
  const start = path.dirname(fileURLToPath(import.meta.url));
  for (let directory = start; ; directory = path.dirname(directory)) {
    if (existsSync(path.join(directory, 'package.json'))) return (root = directory);
    if (path.dirname(directory) === directory) throw new Error(`no package.json above ${start}: cannot find Tandem's own files`);
  }
}
