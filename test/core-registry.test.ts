import { describe, expect, it } from 'vitest';
import { CURL_IMAGE } from '../src/cli/core/names.js';
import {
  curlImageBeside,
  imageInRegistry,
  parseRegistry,
  registryOf,
} from '../src/cli/core/registry.js';
import { pushHint } from '../src/cli/tools/docker.js';

describe('--registry HOST[:PORT]/PATH', () => {
  it.each([
    ['localhost:5001/replica-demo', 'localhost:5001/replica-demo'],
    ['localhost:5001', 'localhost:5001'],
    ['ghcr.io/you/replica-demo/', 'ghcr.io/you/replica-demo'],
    ['registry.example.com:443/team_a/lesson-1', 'registry.example.com:443/team_a/lesson-1'],
    ['10.0.0.5:5000/x', '10.0.0.5:5000/x'],
    ['my-registry:5000/x', 'my-registry:5000/x'],
  ])('accepts %s', (value, expected) => {
    expect(parseRegistry(value)).toBe(expected);
  });

  it.each([
    ['', 'is not a registry'],
    ['lesson', 'does not start with a registry host'],
    ['docker.io/Me', 'has capitals'],
    ['http://localhost:5001/x', 'is a URL'],
    ['localhost:0/x', 'outside 1..65535'],
    ['localhost:5001/x:v1', 'names a tag or digest'],
    ['localhost:5001/x@sha256:ab', 'names a tag or digest'],
    ['localhost:5001/-x', 'has a path part "-x"'],
    ['localhost:5001//x', 'has a path part ""'],
    ['-localhost:5001', 'is not a registry'],
  ])('refuses %j: %s', (value, says) => {
    expect(() => parseRegistry(value)).toThrow(says);
    expect(() => parseRegistry(value)).toThrow(/^--registry /);
  });

  it('names images under the registry by their last path part', () => {
    expect(imageInRegistry('localhost:5001/lesson', 'multi-replica-app:abc')).toBe(
      'localhost:5001/lesson/multi-replica-app:abc',
    );
    expect(imageInRegistry('ghcr.io/me', CURL_IMAGE)).toBe('ghcr.io/me/curl:8.11.1');
  });

  it('finds the curl image beside a server image in a registry, and the published one otherwise', () => {
    expect(registryOf('localhost:5001/lesson/multi-replica-app:abc')).toBe('localhost:5001/lesson');
    expect(curlImageBeside('localhost:5001/lesson/multi-replica-app:abc')).toBe(
      'localhost:5001/lesson/curl:8.11.1',
    );
    expect(curlImageBeside('localhost:5001/multi-replica-app@sha256:0a')).toBe(
      'localhost:5001/curl:8.11.1',
    );
    expect(curlImageBeside('multi-replica-app:abc')).toBe(CURL_IMAGE);
    expect(curlImageBeside('ghcr.io/me/something-else:1')).toBe(CURL_IMAGE);
    expect(curlImageBeside(undefined)).toBe(CURL_IMAGE);
    expect(registryOf('multi-replica-app:abc')).toBeUndefined();
  });

  it('says how to fix a refused push from what the engine said', () => {
    const ref = 'ghcr.io/me/multi-replica-app:abc';
    expect(pushHint('unauthorized: authentication required', ref)).toContain(
      '`docker login ghcr.io`',
    );
    expect(
      pushHint('http: server gave HTTP response to HTTPS client', 'reg.lan:5000/x/y:1'),
    ).toContain('reg.lan:5000 speaks plain HTTP');
    expect(pushHint('dial tcp 127.0.0.1:5001: connect: connection refused', ref)).toContain(
      'curl -s http://ghcr.io/v2/',
    );
    expect(pushHint('something else', ref)).toContain(`\`docker push ${ref}\``);
  });
});
