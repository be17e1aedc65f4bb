import net from 'node:net';
import { constants as zlibConstants, deflateSync, inflateSync } from 'node:zlib';
import { SPDY3_DICTIONARY } from './spdy-dictionary.js';

/**
 * kubectl port-forward (1.31+) over a websocket whose binary messages carry a SPDY/3.1
 * session (`SPDY/3.1+portforward.k8s.io`), as the API server tunnels it to a kubelet. Per
 * local connection kubectl opens two streams with headers `streamType` (error|data),
 * `port` and `requestID`; the data stream carries the TCP bytes to podIP:port both ways.
 * Only what that protocol needs is here: SYN_STREAM/SYN_REPLY, DATA, RST_STREAM, PING and
 * GOAWAY; SETTINGS, HEADERS and WINDOW_UPDATE are read and ignored, as spdystream does.
 */

const FLAG_FIN = 0x01;
const TYPE = {
  SYN_STREAM: 1,
  SYN_REPLY: 2,
  RST_STREAM: 3,
  PING: 6,
  GOAWAY: 7,
  HEADERS: 8,
} as const;
const RST_CANCEL = 5;
const MAX_DATA = 32 * 1024;

interface Stream {
  id: number;
  type: string;
  port: number;
  requestId: string;
}

interface Pair {
  error?: Stream;
  data?: Stream;
  tcp?: net.Socket;
}

export interface SpdySession {
  /** Bytes from the websocket (one binary message). */
  receive(chunk: Buffer): void;
  /** The websocket is gone: drop every pod connection. */
  close(): void;
}

function controlFrame(type: number, flags: number, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16BE(0x8003, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt8(flags, 4);
  head.writeUIntBE(body.length, 5, 3);
  return Buffer.concat([head, body]);
}

function dataFrame(id: number, flags: number, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(id & 0x7fffffff, 0);
  head.writeUInt8(flags, 4);
  head.writeUIntBE(data.length, 5, 3);
  return Buffer.concat([head, data]);
}

function parseHeaderBlock(block: Buffer): Map<string, string> {
  const headers = new Map<string, string>();
  if (block.length < 4) return headers;
  const count = block.readUInt32BE(0);
  let at = 4;
  for (let i = 0; i < count && at + 4 <= block.length; i += 1) {
    const nameLength = block.readUInt32BE(at);
    const name = block.subarray(at + 4, at + 4 + nameLength).toString('utf8');
    at += 4 + nameLength;
    const valueLength = block.readUInt32BE(at);
    const value = block.subarray(at + 4, at + 4 + valueLength).toString('utf8');
    at += 4 + valueLength;
    headers.set(name.toLowerCase(), value.split('\0')[0] ?? '');
  }
  return headers;
}

export function createSpdyPortForward(
  podIp: string,
  podName: string,
  send: (frame: Buffer) => void,
  closeSession: () => void,
  log: (line: string) => void,
): SpdySession {
  let pending: Buffer = Buffer.alloc(0);
  // Header blocks share one zlib stream per direction for the whole session.
  let compressedIn = Buffer.alloc(0);
  let inflatedLength = 0;
  let zlibHeaderSent = false;
  const streams = new Map<number, Stream>();
  const pairs = new Map<string, Pair>();
  let closed = false;

  const inflateHeaders = (block: Buffer): Buffer => {
    compressedIn = Buffer.concat([compressedIn, block]);
    const all = inflateSync(compressedIn, {
      dictionary: SPDY3_DICTIONARY,
      finishFlush: zlibConstants.Z_SYNC_FLUSH,
    });
    const fresh = all.subarray(inflatedLength);
    inflatedLength = all.length;
    return fresh;
  };

  /** An empty header block as a stored (uncompressed) deflate block of our zlib stream. */
  const emptyHeaderBlock = (): Buffer => {
    const payload = Buffer.alloc(4);
    const stored = Buffer.alloc(5);
    stored.writeUInt8(0, 0);
    stored.writeUInt16LE(payload.length, 1);
    stored.writeUInt16LE(~payload.length & 0xffff, 3);
    // The empty stored block after it is zlib's sync flush: it tells the reader the block
    // is complete, so it returns the headers instead of reading on into the next frame.
    const syncFlush = Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff]);
    const parts = [stored, payload, syncFlush];
    if (!zlibHeaderSent) {
      zlibHeaderSent = true;
      // The zlib header that names the dictionary (FDICT + its Adler-32).
      parts.unshift(deflateSync(Buffer.alloc(0), { dictionary: SPDY3_DICTIONARY }).subarray(0, 6));
    }
    return Buffer.concat(parts);
  };

  const reply = (id: number) => {
    const body = Buffer.alloc(4);
    body.writeUInt32BE(id & 0x7fffffff, 0);
    send(controlFrame(TYPE.SYN_REPLY, 0, Buffer.concat([body, emptyHeaderBlock()])));
  };

  const reset = (id: number) => {
    const body = Buffer.alloc(8);
    body.writeUInt32BE(id & 0x7fffffff, 0);
    body.writeUInt32BE(RST_CANCEL, 4);
    send(controlFrame(TYPE.RST_STREAM, 0, body));
  };

  const finish = (pair: Pair) => {
    for (const s of [pair.data, pair.error]) {
      if (!s || !streams.has(s.id)) continue;
      streams.delete(s.id);
      send(dataFrame(s.id, FLAG_FIN, Buffer.alloc(0)));
    }
  };

  const start = (requestId: string, pair: Pair) => {
    const data = pair.data;
    const error = pair.error;
    if (!data || !error || pair.tcp) return;
    const tcp = net.connect({ host: podIp, port: data.port });
    pair.tcp = tcp;
    tcp.on('data', (chunk: Buffer) => {
      for (let at = 0; at < chunk.length; at += MAX_DATA)
        send(dataFrame(data.id, 0, chunk.subarray(at, at + MAX_DATA)));
    });
    tcp.on('error', (err) => {
      const message = `error forwarding port ${data.port} to pod ${podName}: ${err.message}`;
      log(`portforward ${message}`);
      if (streams.has(error.id)) send(dataFrame(error.id, 0, Buffer.from(message)));
    });
    tcp.on('close', () => {
      finish(pair);
      pairs.delete(requestId);
    });
  };

  const onSynStream = (frame: Buffer, flags: number) => {
    const id = frame.readUInt32BE(8) & 0x7fffffff;
    const headers = parseHeaderBlock(inflateHeaders(frame.subarray(18)));
    const stream: Stream = {
      id,
      type: headers.get('streamtype') ?? '',
      port: Number(headers.get('port') ?? 'NaN'),
      requestId: headers.get('requestid') ?? '',
    };
    streams.set(id, stream);
    reply(id);
    if ((stream.type !== 'data' && stream.type !== 'error') || !Number.isInteger(stream.port)) {
      reset(id);
      streams.delete(id);
      return;
    }
    const pair = pairs.get(stream.requestId) ?? {};
    if (stream.type === 'data') pair.data = stream;
    else pair.error = stream;
    pairs.set(stream.requestId, pair);
    start(stream.requestId, pair);
    if (flags & FLAG_FIN && stream.type === 'data') pair.tcp?.end();
  };

  const pairOf = (id: number): Pair | undefined => {
    const s = streams.get(id);
    return s ? pairs.get(s.requestId) : undefined;
  };

  const onData = (id: number, flags: number, data: Buffer) => {
    const stream = streams.get(id);
    if (!stream) return;
    const pair = pairOf(id);
    if (stream.type === 'data' && pair?.tcp) {
      if (data.length > 0) pair.tcp.write(data);
      if (flags & FLAG_FIN) pair.tcp.end();
    }
  };

  const onFrame = (frame: Buffer) => {
    const control = (frame[0] ?? 0) & 0x80;
    const flags = frame[4] ?? 0;
    if (!control) {
      onData(frame.readUInt32BE(0) & 0x7fffffff, flags, frame.subarray(8));
      return;
    }
    const type = frame.readUInt16BE(2);
    switch (type) {
      case TYPE.SYN_STREAM:
        onSynStream(frame, flags);
        break;
      case TYPE.RST_STREAM: {
        const pair = pairOf(frame.readUInt32BE(8) & 0x7fffffff);
        streams.delete(frame.readUInt32BE(8) & 0x7fffffff);
        pair?.tcp?.destroy();
        break;
      }
      case TYPE.PING:
        send(frame);
        break;
      case TYPE.GOAWAY:
        session.close();
        closeSession();
        break;
      case TYPE.HEADERS:
        // Keeps the header zlib stream in step; the values are not needed.
        inflateHeaders(frame.subarray(12));
        break;
      default:
        break; // SETTINGS, WINDOW_UPDATE, NOOP
    }
  };

  const session: SpdySession = {
    receive(chunk: Buffer) {
      if (closed) return;
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= 8) {
        const length = pending.readUIntBE(5, 3);
        if (pending.length < 8 + length) break;
        const frame = pending.subarray(0, 8 + length);
        pending = pending.subarray(8 + length);
        try {
          onFrame(frame);
        } catch (error) {
          log(`portforward ${podName}: bad SPDY frame: ${(error as Error).message}`);
          session.close();
          closeSession();
          return;
        }
      }
    },
    close() {
      if (closed) return;
      closed = true;
      for (const pair of pairs.values()) pair.tcp?.destroy();
      pairs.clear();
      streams.clear();
    },
  };
  return session;
}
