import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { IMAGE_REPOSITORY } from './names.js';

/** One file that goes into the image, by its path relative to the project root. */
export interface ImageInput {
  /** Relative, with `/` separators on every platform, so the tag is the same everywhere. */
  readonly path: string;
  readonly content: Uint8Array;
}

/**
 * Files at the project root that shape the image: the Dockerfile and what .dockerignore lets
 * into its context, the same in a checkout and in the installed package. Missing ones are
 * simply not hashed.
 */
const ROOT_FILES = ['Dockerfile', '.dockerignore', 'tsconfig.json', 'tsconfig.build.json'];
/** Folders whose every file is copied into the image (the server's own package.json too). */
const SOURCE_DIRS = ['src/server'];

export const IMAGE_TAG_LENGTH = 12;

/** Locale-independent ordering, so every machine lists the inputs in the same order. */
function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Relative paths of the files the image is built from, sorted. */
export async function imageInputs(root: string): Promise<string[]> {
  const found: string[] = [];
  const rootEntries = await readdir(root, { withFileTypes: true });
  for (const entry of rootEntries) {
    if (!entry.isFile()) continue;
    if (ROOT_FILES.includes(entry.name)) found.push(entry.name);
  }
  for (const dir of SOURCE_DIRS) {
    found.push(...(await filesUnder(root, dir)));
  }
  return found.sort(compareCodeUnits);
}

async function filesUnder(root: string, relativeDir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(path.join(root, relativeDir), { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const files: string[] = [];
  for (const entry of entries) {
    const relative = `${relativeDir}/${entry.name}`;
    if (entry.isDirectory()) files.push(...(await filesUnder(root, relative)));
    else if (entry.isFile()) files.push(relative);
  }
  return files;
}

/**
 * First 12 hex digits of a sha256 over every input's path and content. Each field is
 * length-prefixed so that moving bytes between a path and a content, or between two files,
 * cannot give the same hash. Order of `inputs` does not matter.
 */
export function hashImageInputs(inputs: readonly ImageInput[]): string {
  const hash = createHash('sha256');
  const sorted = [...inputs].sort((a, b) => compareCodeUnits(a.path, b.path));
  for (const input of sorted) {
    const pathBytes = Buffer.from(input.path, 'utf8');
    hash.update(`${pathBytes.length}:`);
    hash.update(pathBytes);
    hash.update(`${input.content.byteLength}:`);
    hash.update(input.content);
  }
  return hash.digest('hex').slice(0, IMAGE_TAG_LENGTH);
}

/**
 * The tag of the image built from `root`: same sources, same tag; any change, a new tag. A
 * base image other than the Dockerfile's own is an input too, so it gets a tag of its own.
 */
export async function imageTag(root: string, baseImage?: string): Promise<string> {
  const paths = await imageInputs(root);
  const inputs: ImageInput[] = await Promise.all(
    paths.map(async (relative) => ({
      path: relative,
      content: await readFile(path.join(root, ...relative.split('/'))),
    })),
  );
  if (baseImage !== undefined) {
    inputs.push({ path: BASE_IMAGE_INPUT, content: Buffer.from(baseImage, 'utf8') });
  }
  return hashImageInputs(inputs);
}

/** Not a file: the name under which `--base-image` enters the hash (no file has a colon here). */
const BASE_IMAGE_INPUT = 'build-arg:BASE_IMAGE';

/** `multi-replica-app:<tag>`. */
export function imageReference(tag: string): string {
  return `${IMAGE_REPOSITORY}:${tag}`;
}
