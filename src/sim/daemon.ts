import { NamespaceDefaultsController } from './controllers/serviceaccounts.js';
import { randomBytes } from 'node:crypto';
import { generate } from 'selfsigned';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Store } from './store.js';
import { Runtime } from './runtime.js';
import { claimAddressBlock } from './address-block.js';
import { admitPod } from './admission.js';
import { seededRandom } from './random.js';
import { ensureProxyConfig, ensureSystemNamespaces, setServiceAddressOctet } from './defaults.js';
import { ApiServer } from './api/server.js';
import { renderKubeconfig, simPaths, type SimState } from './kubeconfig.js';

/**
 * The embedded cluster's daemon: one process holding the store, the runtime (controllers,
 * kubelet, proxies) and the API server. `control.ts` spawns it detached with its output
 * going to `<home>/sim/daemon.log`; it announces itself by writing `state.json`.
 */

function log(line: string): void {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`);
}

function writePrivate(file: string, text: string): void {
  // Written aside and renamed, so a reader never sees half a file.
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, file);
}

/** A fresh key and certificate per start: the kubeconfig trusts exactly this one. */
async function selfSignedCertificate(): Promise<{ key: string; cert: string }> {
  const now = Date.now();
  const pems = await generate([{ name: 'commonName', value: 'replica-demo-sim' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now - 60_000),
    notAfterDate: new Date(now + 365 * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 2, value: 'localhost' },
        ],
      },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}

async function run(): Promise<void> {
  const { values } = parseArgs({
    options: { home: { type: 'string' }, nodes: { type: 'string', default: '3' } },
    strict: true,
  });
  if (!values.home) throw new Error('--home is required');
  const nodes = Number(values.nodes);
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 10) throw new Error('--nodes must be 1..10');
  const paths = simPaths(values.home);
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });

  const seed = process.env.REPLICA_DEMO_SIM_SEED || undefined;
  const store = new Store(
    () => new Date(),
    seededRandom(seed === undefined ? undefined : `store:${seed}`),
  );
  ensureSystemNamespaces(store);
  ensureProxyConfig(store);
  const serverEntry = fileURLToPath(new URL('../server/main.js', import.meta.url));
  const addressBlock = await claimAddressBlock();
  const runtime = new Runtime(store, {
    nodes,
    serverEntry,
    addressBlock,
    ...(seed === undefined ? {} : { seed }),
  });
  setServiceAddressOctet(store, runtime.addressOctet);
  // The key pair is made while the runtime starts: both sit on the start-up path.
  const certificate = selfSignedCertificate();
  await runtime.start();

  const token = randomBytes(32).toString('hex');
  const tls = await certificate;
  new NamespaceDefaultsController(store, tls.cert).start();
  store.compact();
  const api = new ApiServer({ store, token, logs: runtime.logs, admitPod, log, tls });
  const port = await api.listen(0, '127.0.0.1');
  const server = `https://127.0.0.1:${port}`;
  writePrivate(paths.kubeconfig, renderKubeconfig(server, token, tls.cert));
  const state: SimState = {
    pid: process.pid,
    port,
    token,
    startedAt: new Date().toISOString(),
    nodes,
    server,
    ca: tls.cert,
  };
  writePrivate(paths.state, `${JSON.stringify(state, null, 2)}\n`);
  log(
    `embedded cluster listening on ${server} with ${nodes} node(s)${seed ? `, seed ${seed}` : ''}`,
  );

  let stopping = false;
  const shutdown = async (why: string) => {
    if (stopping) return;
    stopping = true;
    log(`stopping (${why})`);
    const force = setTimeout(() => {
      log('shutdown took too long; exiting');
      process.exit(1);
    }, 45_000);
    try {
      await runtime.stop();
      await api.close();
    } finally {
      clearTimeout(force);
      rmSync(paths.state, { force: true });
      rmSync(paths.kubeconfig, { force: true });
      log('stopped');
      process.exit(0);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGHUP', () => void shutdown('SIGHUP'));
}

process.on('uncaughtException', (error) => {
  log(`fatal: ${error.stack ?? error.message}`);
  process.exit(1);
});

run().catch((error: unknown) => {
  log(`failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
