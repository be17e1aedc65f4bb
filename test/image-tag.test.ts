import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  hashImageInputs,
  imageInputs,
  imageReference,
  imageTag,
  IMAGE_TAG_LENGTH,
} from '../src/cli/core/image-tag.js';

const bytes = (text: string) => Buffer.from(text, 'utf8');

/** A small project: the files that make the image, and some that do not. */
const PROJECT: Record<string, string> = {
  Dockerfile: 'FROM node\nCOPY . .\n',
  '.dockerignore': 'node_modules\n',
  'tsconfig.json': '{}\n',
  'tsconfig.build.json': '{"extends":"./tsconfig.json"}\n',
  'src/server/app.ts': 'export const app = 1;\n',
  'src/server/http/routes.ts': 'export const routes = [];\n',
  'src/server/image/package.json': '{"name":"x-server"}\n',
  'src/server/image/package-lock.json': '{"lockfileVersion":3}\n',
  // Not image inputs: the image installs the server's own package, not the project's.
  'package.json': '{"name":"x"}\n',
  'package-lock.json': '{"lockfileVersion":3}\n',
  'tsconfig.bench.json': '{}\n',
  'README.md': '# x\n',
  'src/cli/main.ts': 'console.log(1);\n',
  'test/app.test.ts': 'it();\n',
  'manifests/10-deployment.yaml': 'kind: Deployment\n',
};

const IMAGE_FILES = [
  '.dockerignore',
  'Dockerfile',
  'src/server/app.ts',
  'src/server/http/routes.ts',
  'src/server/image/package-lock.json',
  'src/server/image/package.json',
  'tsconfig.build.json',
  'tsconfig.json',
];

let tmp = '';
let original = '';
let copies = 0;

function writeProject(root: string, files: Record<string, string>) {
  for (const [relative, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, relative)), { recursive: true });
    writeFileSync(path.join(root, relative), content);
  }
}

/** A fresh copy of the project in its own folder, so each test changes only its own files. */
function copyOfProject(): string {
  copies += 1;
  const dir = path.join(tmp, `copy-${copies}`);
  cpSync(original, dir, { recursive: true });
  return dir;
}

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'replica-demo-image-tag-'));
  original = path.join(tmp, 'original');
  writeProject(original, PROJECT);
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('imageInputs', () => {
  it('lists exactly the files that make the image, sorted', async () => {
    expect(await imageInputs(original)).toEqual(IMAGE_FILES);
  });

  it('skips optional files that are missing', async () => {
    const dir = copyOfProject();
    rmSync(path.join(dir, '.dockerignore'));
    rmSync(path.join(dir, 'src/server'), { recursive: true });
    expect(await imageInputs(dir)).toEqual(
      IMAGE_FILES.filter((f) => !/^(\.dockerignore|src\/)/.test(f)),
    );
  });
});

describe('imageTag', () => {
  let baseline = '';
  beforeAll(async () => {
    baseline = await imageTag(original);
  });

  it('is 12 lower-case hex digits', () => {
    expect(baseline).toMatch(new RegExp(`^[0-9a-f]{${IMAGE_TAG_LENGTH}}$`));
  });

  it('is the same for the same sources, wherever they live', async () => {
    expect(await imageTag(original)).toBe(baseline);
    expect(await imageTag(copyOfProject())).toBe(baseline);
  });

  it.each([
    [
      'a server source changes',
      (d: string) => writeFileSync(path.join(d, 'src/server/app.ts'), 'export const app = 2;\n'),
    ],
    [
      'a nested server source changes',
      (d: string) => writeFileSync(path.join(d, 'src/server/http/routes.ts'), ''),
    ],
    [
      'the Dockerfile changes',
      (d: string) => writeFileSync(path.join(d, 'Dockerfile'), 'FROM node:22\n'),
    ],
    ['.dockerignore changes', (d: string) => writeFileSync(path.join(d, '.dockerignore'), '')],
    [
      "the server's lock file changes",
      (d: string) => writeFileSync(path.join(d, 'src/server/image/package-lock.json'), '{}'),
    ],
    [
      "the server's package.json changes",
      (d: string) => writeFileSync(path.join(d, 'src/server/image/package.json'), '{}'),
    ],
    ['a tsconfig changes', (d: string) => writeFileSync(path.join(d, 'tsconfig.build.json'), '{}')],
    [
      'a server file is added',
      (d: string) => writeFileSync(path.join(d, 'src/server/extra.ts'), ''),
    ],
    ['a server file is removed', (d: string) => rmSync(path.join(d, 'src/server/http/routes.ts'))],
    [
      'a server file is renamed',
      (d: string) =>
        renameSync(path.join(d, 'src/server/app.ts'), path.join(d, 'src/server/app2.ts')),
    ],
  ])('changes when %s', async (_what, change) => {
    const dir = copyOfProject();
    change(dir);
    expect(await imageTag(dir)).not.toBe(baseline);
  });

  it.each([
    ['the README changes', (d: string) => writeFileSync(path.join(d, 'README.md'), '# y\n')],
    ['CLI code changes', (d: string) => writeFileSync(path.join(d, 'src/cli/main.ts'), '')],
    [
      "the project's package.json changes",
      (d: string) => writeFileSync(path.join(d, 'package.json'), '{"name":"y"}'),
    ],
    [
      "the project's lock file changes",
      (d: string) => writeFileSync(path.join(d, 'package-lock.json'), '{}'),
    ],
    [
      'a tsconfig the build does not use changes',
      (d: string) => writeFileSync(path.join(d, 'tsconfig.bench.json'), '{"x":1}'),
    ],
    ['a test changes', (d: string) => writeFileSync(path.join(d, 'test/app.test.ts'), '')],
    [
      'a manifest changes',
      (d: string) => writeFileSync(path.join(d, 'manifests/10-deployment.yaml'), ''),
    ],
  ])('stays when %s', async (_what, change) => {
    const dir = copyOfProject();
    change(dir);
    expect(await imageTag(dir)).toBe(baseline);
  });
});

describe('hashImageInputs', () => {
  const a = { path: 'a', content: bytes('one') };
  const b = { path: 'b', content: bytes('two') };

  it('does not depend on the order the inputs come in', () => {
    expect(hashImageInputs([a, b])).toBe(hashImageInputs([b, a]));
  });

  it('tells apart bytes moved between a path and its content', () => {
    expect(hashImageInputs([{ path: 'ab', content: bytes('c') }])).not.toBe(
      hashImageInputs([{ path: 'a', content: bytes('bc') }]),
    );
  });

  it('tells apart bytes moved from one file to the next', () => {
    expect(
      hashImageInputs([
        { path: 'a', content: bytes('xy') },
        { path: 'b', content: bytes('z') },
      ]),
    ).not.toBe(
      hashImageInputs([
        { path: 'a', content: bytes('x') },
        { path: 'b', content: bytes('yz') },
      ]),
    );
  });

  it('changes with a single byte of content', () => {
    expect(hashImageInputs([{ path: 'a', content: bytes('one') }])).not.toBe(
      hashImageInputs([{ path: 'a', content: bytes('onf') }]),
    );
  });

  it('is the sha256 of the length-prefixed fields, cut to 12 digits', async () => {
    const { createHash } = await import('node:crypto');
    const expected = createHash('sha256').update('1:a3:one').digest('hex').slice(0, 12);
    expect(hashImageInputs([a])).toBe(expected);
  });
});

describe('imageReference', () => {
  it('puts the tag on the lesson image repository', () => {
    expect(imageReference('0123456789ab')).toBe('multi-replica-app:0123456789ab');
  });
});

describe('the real Dockerfile', () => {
  const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const dockerfile = path.join(repoRoot, 'Dockerfile');

  /** Sources of every COPY that reads the build context (not `--from` a stage). */
  function contextSources(text: string): string[] {
    const sources: string[] = [];
    for (const line of text.split('\n')) {
      const match = /^\s*COPY\s+(.*)$/i.exec(line);
      if (!match?.[1]) continue;
      const rest = match[1].trim();
      const tokens = rest.startsWith('[')
        ? (JSON.parse(rest) as string[])
        : rest.split(/\s+/).filter((t) => t !== '');
      if (tokens.some((t) => t.startsWith('--from'))) continue;
      const args = tokens.filter((t) => !t.startsWith('--'));
      sources.push(...args.slice(0, -1));
    }
    return sources;
  }

  function filesOf(root: string, source: string): string[] {
    const clean = source.replace(/^\.\//, '').replace(/\/$/, '');
    if (clean.includes('*')) {
      const pattern = new RegExp(
        `^${clean.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`,
      );
      return readdirSync(root).filter((name) => pattern.test(name));
    }
    const full = path.join(root, clean);
    if (!existsSync(full)) return [];
    if (!statSync(full).isDirectory()) return [clean];
    return (readdirSync(full, { recursive: true }) as string[])
      .map((entry) => `${clean}/${entry.split(path.sep).join('/')}`)
      .filter((relative) => statSync(path.join(root, relative)).isFile());
  }

  it('copies nothing from the build context that the image tag leaves out', async () => {
    const sources = contextSources(readFileSync(dockerfile, 'utf8'));
    expect(sources.length).toBeGreaterThan(0);
    const inputs = new Set(await imageInputs(repoRoot));
    const copied = sources.flatMap((source) => filesOf(repoRoot, source));
    expect(copied.length).toBeGreaterThan(0);
    expect(copied.filter((file) => !inputs.has(file))).toEqual([]);
  });

  it('hashes nothing that .dockerignore keeps out of the build context', async () => {
    const allowed = readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('!'))
      .map((line) => line.slice(1).replace(/\/$/, ''));
    expect(allowed.length).toBeGreaterThan(0);
    const inContext = (file: string) =>
      allowed.some((entry) => file === entry || file.startsWith(`${entry}/`));
    const inputs = await imageInputs(repoRoot);
    expect(inputs).toContain('src/server/image/package-lock.json');
    expect(
      inputs.filter((file) => !['Dockerfile', '.dockerignore'].includes(file) && !inContext(file)),
    ).toEqual([]);
  });
});
