import { describe, expect, it } from 'vitest';
import { isFromInsidePod, isLoopback } from '../src/server/peer.js';

/**
 * Who may crash a replica: only a connection from inside its pod, which from outside it only
 * `kubectl port-forward` makes. The addresses are those Node reports as a socket's peer.
 */

describe('isLoopback', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.16.2.3', true],
    ['127.255.255.254', true],
    ['::1', true],
    ['0:0:0:0:0:0:0:1', true],
    ['::ffff:127.0.0.1', true],
    ['::FFFF:127.9.9.9', true],
    ['::ffff:7f00:1', true],
    ['128.0.0.1', false],
    ['10.244.1.7', false],
    ['::ffff:10.244.1.7', false],
    ['::2', false],
    ['fe80::1', false],
    ['localhost', false],
    ['', false],
  ])('%s -> %s', (address, expected) => {
    expect(isLoopback(address)).toBe(expected);
  });
});

describe('isFromInsidePod', () => {
  describe('in a real cluster (the pod address is not loopback)', () => {
    const podIp = '10.244.1.7';
    it('accepts the pod localhost, where a port-forward connects from, in every form', () => {
      for (const peer of ['127.0.0.1', '::1', '::ffff:127.0.0.1', '127.0.0.2'])
        expect(isFromInsidePod(peer, podIp), peer).toBe(true);
    });
    it('refuses other pods, the Service (kube-proxy keeps the client address) and nodes', () => {
      for (const peer of ['10.244.2.9', '::ffff:10.244.2.9', '10.244.1.7', '172.18.0.3', 'fd00::2'])
        expect(isFromInsidePod(peer, podIp), peer).toBe(false);
    });
    it('refuses a connection whose peer is unknown', () => {
      expect(isFromInsidePod(undefined, podIp)).toBe(false);
      expect(isFromInsidePod('', podIp)).toBe(false);
    });
  });

  describe('on the embedded cluster (every pod has a loopback address of one machine)', () => {
    const podIp = '127.16.1.2';
    it("accepts only the pod's own address, where its port-forward connects from", () => {
      expect(isFromInsidePod('127.16.1.2', podIp)).toBe(true);
      expect(isFromInsidePod('::ffff:127.16.1.2', podIp)).toBe(true);
    });
    it('refuses the Service proxy (127.0.0.1) and other pods, loopback though they are', () => {
      for (const peer of ['127.0.0.1', '::1', '127.16.2.4', '127.16.1.3', '::ffff:127.0.0.1'])
        expect(isFromInsidePod(peer, podIp), peer).toBe(false);
    });
  });
});
