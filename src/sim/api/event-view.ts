import type { KubeObject } from '../store.js';
import type { ResourceType } from '../resources.js';

/**
 * events.k8s.io/v1 Events are the core v1 Events in another shape, as the API server
 * converts them: `note` is the message, `regarding` the involved object, `reportingController`
 * the reporting component, and the old counters are `deprecated*`. Fields come in the Go
 * type's order.
 */

type Obj = Record<string, unknown>;

const present = (v: unknown) => v !== undefined && v !== null && v !== '';

export function toEventsV1(core: KubeObject): KubeObject {
  const e = core as unknown as Obj;
  const out: Obj = { kind: 'Event', apiVersion: 'events.k8s.io/v1', metadata: core.metadata };
  out.eventTime = e.eventTime ?? null;
  const pairs: [string, unknown][] = [
    ['series', e.series],
    ['reportingController', e.reportingComponent],
    ['reportingInstance', e.reportingInstance],
    ['action', e.action],
    ['reason', e.reason],
    ['regarding', e.involvedObject],
    ['related', e.related],
    ['note', e.message],
    ['type', e.type],
    ['deprecatedSource', e.source],
    ['deprecatedFirstTimestamp', e.firstTimestamp],
    ['deprecatedLastTimestamp', e.lastTimestamp],
    ['deprecatedCount', e.count],
  ];
  for (const [k, v] of pairs) if (present(v)) out[k] = v;
  return out as unknown as KubeObject;
}

/** An object as `type` shows it: converted for a view type, as stored otherwise. */
export function shownAs(type: ResourceType, obj: KubeObject): KubeObject {
  return type.view && type.group === 'events.k8s.io' ? toEventsV1(obj) : obj;
}

/** A field selector on events.k8s.io/v1 names, in the core names the store matches. */
export function storedFieldSelector(type: ResourceType, selector: string | undefined) {
  if (!type.view || selector === undefined) return selector;
  return selector
    .replace(/\bregarding\./g, 'involvedObject.')
    .replace(/\breportingController\b/g, 'reportingComponent')
    .replace(/\bdeprecatedSource\b/g, 'source');
}
