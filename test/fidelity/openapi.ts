import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { groupVersions } from '../../src/sim/api/discovery.js';
import { openApiFileName } from '../../src/sim/api/openapi.js';

/**
 * The real API server's OpenAPI v3 schemas for the group-versions the embedded cluster
 * serves, which it validates against and serves to `kubectl explain`. Refreshed with the
 * recorded answers (`npm run fidelity -- --record --context <ctx>`).
 */

const OUT = fileURLToPath(new URL('../../src/sim/openapi/', import.meta.url));

export async function captureOpenApi(context: string): Promise<string[]> {
  mkdirSync(OUT, { recursive: true });
  const written: string[] = [];
  for (const gv of groupVersions()) {
    const url =
      gv.group === ''
        ? `/openapi/v3/api/${gv.version}`
        : `/openapi/v3/apis/${gv.group}/${gv.version}`;
    const r = await execa('kubectl', ['--context', context, 'get', '--raw', url]);
    const doc = JSON.parse(String(r.stdout)) as { components: { schemas: unknown } };
    const file = path.join(OUT, openApiFileName(gv.group, gv.version));
    writeFileSync(
      file,
      gzipSync(JSON.stringify({ components: { schemas: doc.components.schemas } })),
    );
    written.push(file);
  }
  return written;
}
