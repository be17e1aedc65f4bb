import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import type { RequestRecord } from '../src/cli/core/curl-log.js';
import {
  buildLoadReport,
  crashMoment,
  gracefulLoss,
  startedAt,
} from '../src/cli/core/under-load.js';
import { podPainter } from '../src/cli/render/colours.js';
import { visibleWidth } from '../src/cli/render/text.js';
import { explainLoad, loadTable, renderLoad, type LoadView } from '../src/cli/render/under-load.js';

/** kill-pod --under-load's counting per second and its report, from made-up load logs. */

const pod = (id: string) => `web-server-deployment-7d9f8c6b5d-${id}`;
const OLD = ['aaaaa', 'bbbbb', 'ccccc', 'ddddd', 'eeeee'].map(pod);
const VICTIM = pod('ccccc');
const NEW = pod('zzzzz');
const KILL = Date.parse('2026-01-01T00:00:10Z');
const plain = new Chalk({ level: 0 });

/** A request that started `atSeconds` from the kill and took 2 ms. */
function request(atSeconds: number, answeredBy: string | undefined, status = 200): RequestRecord {
  const seconds = 0.002;
  return {
    status: answeredBy === undefined ? 0 : status,
    seconds,
    ...(answeredBy !== undefined ? { pod: answeredBy } : {}),
    loggedAt: KILL + atSeconds * 1000 + seconds * 1000,
  };
}

/**
 * 50 a second from -5 s to +10 s; the victim answers until +0.04 s, the replacement from +2 s;
 * `failing` lists the moments of requests that got no response.
 */
function load(failing: number[] = []): RequestRecord[] {
  const records: RequestRecord[] = [];
  for (let i = 0; i < 15 * 50; i += 1) {
    const at = -5 + i / 50;
    const live = [...OLD.filter((p) => p !== VICTIM || at < 0.05), ...(at >= 2 ? [NEW] : [])];
    const failed = failing.some((f) => Math.abs(f - at) < 0.001);
    records.push(request(at, failed ? undefined : live[i % live.length]));
  }
  return records;
}

function view(records: RequestRecord[], force = false): LoadView {
  return {
    report: buildLoadReport(records, KILL, VICTIM),
    marks: [
      { event: 'deleted', atSeconds: 0, pod: VICTIM },
      { event: 'ready', atSeconds: 2.03, pod: NEW },
      { event: 'gone', atSeconds: force ? 0.01 : 5.6, pod: VICTIM },
    ],
    victim: VICTIM,
    force,
    preStopSeconds: 5,
    curlErrors: [],
  };
}

describe('counting the load per second', () => {
  it('puts each request in the second it started, counted from the kill', () => {
    expect(startedAt(request(-0.5, OLD[0]))).toBe(KILL - 500);
    expect(startedAt({ status: 200, seconds: 0.002 })).toBeUndefined();
    const report = buildLoadReport(load(), KILL, VICTIM);
    expect(report.seconds.map((s) => s.second)).toEqual([
      -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
    ]);
    expect(report.seconds.every((s) => s.requests === 50)).toBe(true);
    expect(report.requests).toBe(750);
    expect(report.failed).toBe(0);
    const second = (n: number) => report.seconds.find((s) => s.second === n)!;
    expect(Object.keys(second(-1).pods).sort()).toEqual([...OLD].sort());
    expect(second(1).pods[VICTIM]).toBeUndefined();
    expect(second(2).pods[NEW]).toBeGreaterThan(0);
    // The victim's last answer, and the ones after the kill that the proxy still sent it.
    expect(report.victimLastAnswer).toBe(0.04);
    expect(report.victimAnswersAfterKill).toBe(1);
    // The pods that ran from the start by name, the replacement after them.
    expect(report.pods).toEqual([...[...OLD].sort(), NEW]);
  });

  it('counts failures and when they started; a second with no request still has its row', () => {
    const records = load([0.3, 0.42, 0.9]).filter((r) => {
      const start = startedAt(r)!;
      return start < KILL + 3000 || start >= KILL + 4000;
    });
    records.push(request(0.5, OLD[0], 503));
    const report = buildLoadReport(records, KILL, VICTIM);
    expect(report.failed).toBe(4);
    expect(report.failedBetween).toEqual({ first: 0.3, last: 0.9 });
    expect(report.seconds.find((s) => s.second === 0)).toMatchObject({ requests: 51, failed: 4 });
    expect(report.seconds.find((s) => s.second === 3)).toEqual({
      second: 3,
      requests: 0,
      failed: 0,
      pods: {},
    });
  });
});

describe('the load report', () => {
  it('marks the kill, the ready replacement and the old pod gone before the rows they fall in', () => {
    const lines = loadTable(view(load()), plain);
    const at = (text: string | RegExp) =>
      lines.findIndex((l) => (typeof text === 'string' ? l.includes(text) : text.test(l)));
    expect(lines[0]).toMatch(/^ {2}SEC {2}REQS {2}FAILED {2}PODS THAT ANSWERED$/);
    expect(at('▸ +0.00 s  ccccc deleted')).toBe(at(/^ +-1 /) + 1);
    expect(at(/^ +\+0 /)).toBe(at('▸ +0.00 s  ccccc deleted') + 1);
    expect(at('▸ +2.03 s  zzzzz ready')).toBe(at(/^ +\+2 /) - 1);
    expect(at('▸ +5.60 s  ccccc gone: its process has ended')).toBe(at(/^ +\+5 /) - 1);
    // Each pod keeps its column; the victim's is blank once it stopped answering.
    const row = (n: string) => lines.find((l) => l.startsWith(`  ${n.padStart(3)} `))!;
    expect(row('-1')).toContain('aaaaa bbbbb ccccc ddddd eeeee');
    expect(row('+1')).toContain('aaaaa bbbbb       ddddd eeeee');
    expect(row('+3')).toContain('aaaaa bbbbb       ddddd eeeee zzzzz');
  });

  it('paints each replica id in its pod colour', () => {
    const color = new Chalk({ level: 1 });
    const paint = podPainter(color, { [VICTIM]: 1, [NEW]: 3 });
    const text = loadTable(view(load()), color, { paint }).join('\n');
    expect(text).toContain(color.magenta('ccccc'));
    expect(text).toContain(color.green('zzzzz'));
  });

  it.each([60, 80])('fits %i columns, the pods in their columns', (width) => {
    const lines = renderLoad(view(load()), new Chalk({ level: 1 }), { width });
    expect(Math.max(...lines.map(visibleWidth))).toBeLessThanOrEqual(width);
    expect(lines.join('\n')).toContain('aaaaa bbbbb ccccc ddddd eeeee');
  });

  it('counts the pods instead of naming them where their columns do not fit', () => {
    const many = Array.from({ length: 9 }, (_, i) => pod(`p${i}xxx`));
    const records = many.map((p, i) => request(-1 + i / 10, p));
    const v = { ...view(records), report: buildLoadReport(records, KILL, VICTIM) };
    const lines = loadTable(v, plain, { width: 60 });
    expect(lines[0]).toMatch(/PODS$/);
    expect(lines.find((l) => /^ +-1 /.test(l))).toMatch(/ 9$/);
    expect(Math.max(...lines.map(visibleWidth))).toBeLessThanOrEqual(60);
  });

  it('says why nothing failed: the preStop hook for a graceful kill', () => {
    const [text] = explainLoad(view(load()));
    expect(text).toMatch(/^0 of 750 requests failed\. ccccc left the Service's endpoints/);
    expect(text).toContain('its last answer was to a request sent 40 ms after the kill');
    expect(text).toContain('its preStop hook kept it serving for 5 s before SIGTERM');
  });

  it('says why nothing failed even with --force, and when a forced deletion does fail', () => {
    const text = explainLoad(view(load(), true)).join('\n');
    expect(text).toMatch(/^0 of 750 requests failed, even with --force\./);
    expect(text).toContain('The kubelet stops the process of a pod deleted this way');
    expect(text).toContain('A forced deletion loses requests when the process stops before');
  });

  it('counts the failures and explains them in plain words', () => {
    const v = {
      ...view(load([0.3, 0.42, 0.9]), true),
      curlErrors: [
        {
          code: 7,
          message: 'Failed to connect to web-server-service port 80 after N ms: refused',
          count: 3,
        },
      ],
    };
    const [text] = explainLoad(v);
    expect(text).toMatch(
      /^3 of 750 requests failed, between \+0\.30 s and \+0\.90 s after the kill \(3 × curl \(7\) Failed to connect/,
    );
    expect(text).toContain(
      'With --force the pod was deleted with grace 0: it was removed before the endpoints controller and kube-proxy had stopped sending new connections to it',
    );
    const lines = loadTable(v, new Chalk({ level: 1 }));
    expect(lines.find((l) => /^ +\+0 /.test(l))).toContain(new Chalk({ level: 1 }).red('3'));
    expect(renderLoad(v, plain).join('\n')).toContain('total 750 requests, 3 failed');
  });
});

describe('the exit of a kill under load', () => {
  it('fails a graceful kill that lost requests (exit 12), but not a forced one, nor one that lost none', () => {
    const lossy = buildLoadReport(load([0.5, 0.52]), KILL, VICTIM);
    expect(lossy.failed).toBe(2);
    const loss = gracefulLoss(lossy, 'graceful', 'ccccc');
    expect(loss?.message).toBe(
      `2 of ${lossy.requests} requests failed while ccccc was deleted gracefully.`,
    );
    expect(loss?.hint).toContain('readinessProbe and preStop hook');
    expect(gracefulLoss(lossy, 'force', 'ccccc')).toBeUndefined();
    // A crash loses requests by its nature: the lesson, not the run's failure.
    expect(gracefulLoss(lossy, 'crash', 'ccccc')).toBeUndefined();
    expect(
      gracefulLoss(buildLoadReport(load(), KILL, VICTIM), 'graceful', 'ccccc'),
    ).toBeUndefined();
  });
});

describe('a crash under load', () => {
  /** The victim crashes at 0; refused from +0.2 s to +0.7 s; answers again from +1.8 s. */
  function crashLoad(): RequestRecord[] {
    const records: RequestRecord[] = [];
    for (let i = 0; i < 15 * 50; i += 1) {
      const at = -5 + i / 50;
      const pod = OLD[i % OLD.length];
      const refused = pod === VICTIM && at >= 0.2 && at < 0.7;
      const away = pod === VICTIM && at >= 0 && at < 1.8;
      records.push(request(at, refused ? undefined : away ? OLD[0] : pod));
    }
    return records;
  }
  function crashView(records: RequestRecord[]): LoadView {
    return {
      report: buildLoadReport(records, KILL, VICTIM),
      marks: [
        { event: 'crashed', atSeconds: 0, pod: VICTIM },
        { event: 'not-ready', atSeconds: 0.7, pod: VICTIM },
        { event: 'restarted', atSeconds: 1.7, pod: VICTIM },
        { event: 'ready-again', atSeconds: 1.78, pod: VICTIM },
      ],
      victim: VICTIM,
      force: false,
      preStopSeconds: undefined,
      curlErrors: [{ code: 7, message: 'Failed to connect: refused', count: 3 }],
      crash: {
        exitCode: 1,
        notReadySeconds: 0.699,
        restartedSeconds: 1.684,
        readyAgainSeconds: 1.782,
        restartCount: 1,
        replicas: 5,
        readiness: { periodSeconds: 5, failureThreshold: 2 },
      },
    };
  }

  it('titles the table from the crash and marks what the kubelet did, in the seconds they fell in', () => {
    const lines = renderLoad(crashView(crashLoad()), plain);
    const at = (text: string | RegExp) =>
      lines.findIndex((l) => (typeof text === 'string' ? l.includes(text) : text.test(l)));
    expect(lines[0]).toBe(
      'Requests per second through the Service (second 0 begins at the crash):',
    );
    expect(at('▸ +0.00 s  ccccc crashed: its process exited, its pod still Ready')).toBe(
      at(/^ +\+0 /) - 2,
    );
    expect(
      at('▸ +0.70 s  ccccc not Ready: its kubelet noticed, the Service stops sending to it'),
    ).toBe(at(/^ +\+0 /) - 1);
    expect(at('▸ +1.70 s  ccccc restarted in the same pod')).toBe(at(/^ +\+1 /) - 2);
    expect(at("▸ +1.78 s  ccccc Ready again, back in the Service's endpoints")).toBe(
      at(/^ +\+1 /) - 1,
    );
    // The same pod answers again from the second after it was Ready again.
    const row = (n: string) => lines.find((l) => l.startsWith(`  ${n.padStart(3)} `))!;
    expect(row('+0')).toMatch(/^ +\+0 +50 +5 +aaaaa bbbbb {7}ddddd eeeee$/);
    expect(row('+2')).toContain('aaaaa bbbbb ccccc ddddd eeeee');
  });

  it('explains the failures: cut and refused until the kubelet noticed, restarted in place, what helps', () => {
    const [first, second] = explainLoad(crashView(crashLoad()));
    expect(first).toMatch(
      /^5 of 750 requests failed, between \+0\.2\d s and \+0\.6\d s after the crash \(3 × curl \(7\) Failed to connect: refused\)\. ccccc's process died while its pod was still Ready/,
    );
    expect(first).toContain('Its kubelet noticed the dead container 699 ms after the crash');
    expect(first).toContain(
      'restarted the container in the same pod (restart count 1, seen 1.68 s after the crash)',
    );
    expect(first).toContain('no new pod, and nothing for the ReplicaSet to do');
    expect(second).toContain('a readiness probe asks only every 5 s and needs 2 failures');
    expect(second).toContain(
      'a preStop hook and a graceful shutdown run only when Kubernetes stops a pod',
    );
    expect(second).toContain('What helps is more replicas');
    expect(second).toContain('(1 in 5 here)');
    // Nothing about deletions, preStop timings or the --force lesson.
    expect(`${first} ${second}`).not.toMatch(/deleted|--force|kept it serving/);
  });

  it('says so when the restart waited out a back-off after an earlier crash', () => {
    const v = crashView(crashLoad());
    const again = { ...v, crash: { ...v.crash!, restartCount: 2, restartedSeconds: 10.35 } };
    const [first] = explainLoad(again);
    expect(first).toContain(
      'restarted the container in the same pod (restart count 2, seen 10.35 s after the crash; it had crashed not long before, so the kubelet first waited out a back-off (CrashLoopBackOff, 10 s doubling each time))',
    );
    expect(explainLoad(v)[0]).not.toContain('back-off');
  });

  it('says why none failed when no request reached the crashed pod in time', () => {
    const records = load().map((r) => (r.pod === VICTIM ? { ...r, pod: OLD[0] } : r));
    const [first] = explainLoad(crashView(records));
    expect(first).toMatch(
      /^0 of 750 requests failed: none happened to be sent to ccccc between its crash and the moment it left the endpoints\./,
    );
  });
});

describe('the moment of a crash', () => {
  const sent = Date.parse('2026-01-01T00:00:10.000Z');
  const answered = sent + 40;
  const body = (timestamp: unknown) => JSON.stringify({ status: 'crashing', timestamp });

  it("is the server's own time, when it falls within the request's round trip", () => {
    expect(crashMoment(sent, answered, body('2026-01-01T00:00:10.025Z'))).toBe(sent + 25);
  });

  it('is kept within the round trip when the clocks disagree', () => {
    expect(crashMoment(sent, answered, body('2026-01-01T00:00:09.000Z'))).toBe(sent);
    expect(crashMoment(sent, answered, body('2026-01-01T00:00:11.000Z'))).toBe(answered);
  });

  it('is the answer when the server gave no usable time', () => {
    for (const text of ['not json', body(12), body('yesterday'), '{}'])
      expect(crashMoment(sent, answered, text)).toBe(answered);
  });
});
