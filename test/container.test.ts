/**
 * Builds the Dockerfile and runs the image the way the `restricted` Pod Security profile
 * would. Nothing is pulled from a registry: the base image is the Node runtime running the
 * tests, imported into the engine (node, the libraries it links, npm and the CA bundle).
 */
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importNodeRuntime } from '../scripts/node-base-image.mjs';
import { descendantsOf, freeLoopbackPort, getWhenUp } from './helpers/docker.js';

const projectRoot = fileURLToPath(new URL('..', import.meta.url));
const runId = randomBytes(4).toString('hex');
const baseTag = `replica-demo-test-node-base:${runId}`;
const imageTag = `replica-demo-test-server:${runId}`;
const containerName = `replica-demo-test-server-${runId}`;
const podName = 'web-server-deployment-abc12-xyz9k';

async function dockerAnswers(): Promise<boolean> {
  const result = await execa('docker', ['info', '--format', '{{.ServerVersion}}'], {
    reject: false,
    timeout: 20_000,
  });
  return result.exitCode === 0;
}

const engineUp = await dockerAnswers();

async function docker(args: string[], timeout = 120_000): Promise<string> {
  const result = await execa('docker', args, { timeout });
  return result.stdout;
}

describe.skipIf(!engineUp)(
  engineUp ? 'server image' : 'server image (skipped: no Docker engine answers `docker info`)',
  () => {
    let baseId = '';
    let port = 0;
    let started = false;

    beforeAll(async () => {
      await importNodeRuntime(baseTag);
      baseId = (await docker(['image', 'inspect', '--format', '{{.Id}}', baseTag])).trim();
      await docker(
        [
          'build',
          '--network',
          'host',
          '--build-arg',
          `BASE_IMAGE=${baseTag}`,
          '--tag',
          imageTag,
          projectRoot,
        ],
        900_000,
      );
      port = await freeLoopbackPort();
      await docker([
        'run',
        '--detach',
        '--name',
        containerName,
        '--read-only',
        '--cap-drop',
        'ALL',
        '--security-opt',
        'no-new-privileges',
        '--user',
        '10001:10001',
        '--network',
        'host',
        '--env',
        `POD_NAME=${podName}`,
        '--env',
        'POD_IP=10.244.1.23',
        '--env',
        'NODE_NAME=replica-demo-worker',
        '--env',
        'POD_NAMESPACE=multi-replica-web',
        '--env',
        'HOST=127.0.0.1',
        '--env',
        `PORT=${port}`,
        imageTag,
      ]);
      started = true;
    }, 1_200_000);

    afterAll(async () => {
      if (started) await execa('docker', ['rm', '--force', containerName], { reject: false });
      await execa('docker', ['rmi', imageTag], { reject: false });
      if (baseId !== '') {
        for (const id of await descendantsOf(baseId)) {
          await execa('docker', ['rmi', id], { reject: false });
        }
        await execa('docker', ['rmi', baseTag], { reject: false });
      }
    }, 120_000);

    it('declares a numeric non-root user, port 8080 and an exec-form command', async () => {
      const config = JSON.parse(
        await docker(['image', 'inspect', '--format', '{{json .Config}}', imageTag]),
      ) as { User: string; Cmd: string[]; ExposedPorts: Record<string, unknown> };
      expect(config.User).toBe('10001:10001');
      expect(config.Cmd).toEqual(['node', 'dist/server/main.js']);
      expect(Object.keys(config.ExposedPorts)).toEqual(['8080/tcp']);
    });

    it('holds compiled server JS and express alone, no sources or dev dependencies', async () => {
      const listing = `const fs = require('node:fs');
      console.log(JSON.stringify({
        app: fs.readdirSync('/app').sort(),
        server: fs.readdirSync('/app/dist/server').sort(),
        modules: fs.readdirSync('/app/node_modules'),
      }));`;
      const contents = JSON.parse(
        await docker([
          'run',
          '--rm',
          '--network',
          'none',
          '--read-only',
          '--user',
          '10001:10001',
          imageTag,
          'node',
          '-e',
          listing,
        ]),
      ) as { app: string[]; server: string[]; modules: string[] };
      expect(contents.app).toEqual(['dist', 'node_modules', 'package.json']);
      expect(contents.server).toEqual([
        'app.js',
        'identity.js',
        'lifecycle.js',
        'load.js',
        'main.js',
        'peer.js',
      ]);
      expect(contents.modules).toContain('express');
      for (const devOrCli of ['typescript', 'vitest', '@kubernetes', 'commander', 'execa']) {
        expect(contents.modules).not.toContain(devOrCli);
      }
    });

    it('answers GET / read-only, without capabilities, with the pod name from env', async () => {
      const response = await getWhenUp(`http://127.0.0.1:${port}/`, 20_000);
      expect(response.status).toBe(200);
      expect(response.headers.get('x-pod-name')).toBe(podName);
      const body = (await response.json()) as Record<string, unknown>;
      expect(body.pod_name).toBe(podName);
      expect(body.replica_id).toBe('xyz9k');
      expect(body.message).toBe('Hello from Replica xyz9k!');
      const { stdout } = await execa('docker', ['logs', containerName]);
      expect(stdout).toMatch(
        /^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\] Request received by web-server-deployment-abc12-xyz9k \(Replica xyz9k\)$/m,
      );
    });

    it('stops on docker stop with exit code 0 well inside the grace period', async () => {
      await getWhenUp(`http://127.0.0.1:${port}/health`, 20_000);
      const stopStarted = performance.now();
      await docker(['stop', '--time', '10', containerName]);
      const stopMs = performance.now() - stopStarted;
      const state = JSON.parse(
        await docker(['inspect', '--format', '{{json .State}}', containerName]),
      ) as { ExitCode: number; OOMKilled: boolean };
      expect(state.ExitCode).toBe(0);
      expect(stopMs).toBeLessThan(5_000);
    });
  },
);
