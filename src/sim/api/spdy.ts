import net from 'node:net';
import { constants as zlibConstants, deflateSync, inflateSync } from 'node:zlib';
import { SPDY3_DICTIONARY } from './spdy-dictionary.js';
import { fromInsidePod } from './pod-connection.js';

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

/**
 * Header blocks share one zlib stream per direction for the whole session: what comes in is
 * inflated as one growing stream, and what goes out continues our own.
 */
class HeaderZlib {
  private compressedIn = Buffer.alloc(0);
  private inflatedLength = 0;
  private headerSent = false;

  /** The next header block from the peer, decompressed. */
  inflate(block: Buffer): Buffer {
    this.compressedIn = Buffer.concat([this.compressedIn, block]);
    const all = inflateSync(this.compressedIn, {
      dictionary: SPDY3_DICTIONARY,
      finishFlush: zlibConstants.Z_SYNC_FLUSH,
    });
    const fresh = all.subarray(this.inflatedLength);
    this.inflatedLength = all.length;
    return fresh;
  }

  /** An empty header block as a stored (uncompressed) deflate block of our zlib stream. */
  emptyBlock(): Buffer {
    const payload = Buffer.alloc(4);
    const stored = Buffer.alloc(5);
    stored.writeUInt8(0, 0);
    stored.writeUInt16LE(payload.length, 1);
    stored.writeUInt16LE(~payload.length & 0xffff, 3);
    // The empty stored block after it is zlib's sync flush: it tells the reader the block
    // is complete, so it returns the headers instead of reading on into the next frame.
    const syncFlush = Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff]);
    const parts = [stored, payload, syncFlush];
    if (!this.headerSent) {
      this.headerSent = true;
      // The zlib header that names the dictionary (FDICT + its Adler-32).
      parts.unshift(deflateSync(Buffer.alloc(0), { dictionary: SPDY3_DICTIONARY }).subarray(0, 6));
    }
    return Buffer.concat(parts);
  }
}

export function createSpdyPortForward(
  podIp: string,
  podName: string,
  send: (frame: Buffer) => void,
  closeSession: () => void,
  log: (line: string) => void,
): SpdySession {
  return new SpdyPortForward(podIp, podName, send, closeSession, log);
}

class SpdyPortForward implements SpdySession {
  private pending: Buffer = Buffer.alloc(0);
  private readonly zlib = new HeaderZlib();
  private readonly streams = new Map<number, Stream>();
  /** The data and error streams of one local connection, by requestID. */
  private readonly pairs = new Map<string, Pair>();
  private closed = false;

  constructor(
    private readonly podIp: string,
    private readonly podName: string,
    private readonly send: (frame: Buffer) => void,
    private readonly closeSession: () => void,
    private readonly log: (line: string) => void,
  ) {}

  receive(chunk: Buffer): void {
    if (this.closed) return;
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    while (this.pending.length >= 8) {
      const length = this.pending.readUIntBE(5, 3);
      if (this.pending.length < 8 + length) break;
      const frame = this.pending.subarray(0, 8 + length);
      this.pending = this.pending.subarray(8 + length);
      try {
        this.onFrame(frame);
      } catch (error) {
        this.log(`portforward ${this.podName}: bad SPDY frame: ${(error as Error).message}`);
        this.close();
        this.closeSession();
        return;
      }
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const pair of this.pairs.values()) pair.tcp?.destroy();
    this.pairs.clear();
    this.streams.clear();
  }

  private onFrame(frame: Buffer): void {
    const control = (frame[0] ?? 0) & 0x80;
    const flags = frame[4] ?? 0;
    if (!control) {
      this.onData(frame.readUInt32BE(0) & 0x7fffffff, flags, frame.subarray(8));
      return;
    }
    const type = frame.readUInt16BE(2);
    switch (type) {
      case TYPE.SYN_STREAM:
        this.onSynStream(frame, flags);
        break;
      case TYPE.RST_STREAM: {
        const id = frame.readUInt32BE(8) & 0x7fffffff;
        const pair = this.pairOf(id);
        this.streams.delete(id);
        pair?.tcp?.destroy();
        break;
      }
      case TYPE.PING:
        this.send(frame);
        break;
      case TYPE.GOAWAY:
        this.close();
        this.closeSession();
        break;
      case TYPE.HEADERS:
        // Keeps the header zlib stream in step; the values are not needed.
        this.zlib.inflate(frame.subarray(12));
        break;
      default:
        break; // SETTINGS, WINDOW_UPDATE, NOOP
    }
  }

  private onSynStream(frame: Buffer, flags: number): void {
    const id = frame.readUInt32BE(8) & 0x7fffffff;
    const headers = parseHeaderBlock(this.zlib.inflate(frame.subarray(18)));
    const stream: Stream = {
      id,
      type: headers.get('streamtype') ?? '',
      port: Number(headers.get('port') ?? 'NaN'),
      requestId: headers.get('requestid') ?? '',
    };
    this.streams.set(id, stream);
    this.reply(id);
    if ((stream.type !== 'data' && stream.type !== 'error') || !Number.isInteger(stream.port)) {
      this.reset(id);
      this.streams.delete(id);
      return;
    }
    const pair = this.pairs.get(stream.requestId) ?? {};
    if (stream.type === 'data') pair.data = stream;
    else pair.error = stream;
    this.pairs.set(stream.requestId, pair);
    this.start(stream.requestId, pair);
    if (flags & FLAG_FIN && stream.type === 'data') pair.tcp?.end();
  }

  private onData(id: number, flags: number, data: Buffer): void {
    const stream = this.streams.get(id);
    if (!stream) return;
    const pair = this.pairOf(id);
    if (stream.type === 'data' && pair?.tcp) {
      if (data.length > 0) pair.tcp.write(data);
      if (flags & FLAG_FIN) pair.tcp.end();
    }
  }

  private pairOf(id: number): Pair | undefined {
    const s = this.streams.get(id);
    return s ? this.pairs.get(s.requestId) : undefined;
  }

  private reply(id: number): void {
    const body = Buffer.alloc(4);
    body.writeUInt32BE(id & 0x7fffffff, 0);
    this.send(controlFrame(TYPE.SYN_REPLY, 0, Buffer.concat([body, this.zlib.emptyBlock()])));
  }

  private reset(id: number): void {
    const body = Buffer.alloc(8);
    body.writeUInt32BE(id & 0x7fffffff, 0);
    body.writeUInt32BE(RST_CANCEL, 4);
    this.send(controlFrame(TYPE.RST_STREAM, 0, body));
  }

  /** Both streams of a connection are open: connect to the pod and relay. */
  private start(requestId: string, pair: Pair): void {
    const { data, error } = pair;
    if (!data || !error || pair.tcp) return;
    const tcp = net.connect(fromInsidePod(this.podIp, data.port));
    pair.tcp = tcp;
    tcp.on('data', (chunk: Buffer) => {
      for (let at = 0; at < chunk.length; at += MAX_DATA)
        this.send(dataFrame(data.id, 0, chunk.subarray(at, at + MAX_DATA)));
    });
    tcp.on('error', (err) => {
      const message = `error forwarding port ${data.port} to pod ${this.podName}: ${err.message}`;
      this.log(`portforward ${message}`);
      if (this.streams.has(error.id)) this.send(dataFrame(error.id, 0, Buffer.from(message)));
    });
    tcp.on('close', () => {
      this.finish(pair);
      this.pairs.delete(requestId);
    });
  }

  /** The pod connection ended: FIN on both streams still open. */
  private finish(pair: Pair): void {
    for (const s of [pair.data, pair.error]) {
      if (!s || !this.streams.has(s.id)) continue;
      this.streams.delete(s.id);
      this.send(dataFrame(s.id, FLAG_FIN, Buffer.alloc(0)));
    }
  }
}
