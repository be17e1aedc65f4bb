/**
 * What differs between any two clusters, or two runs on one cluster, and says nothing about
 * fidelity: generated names, uids, times, resource versions, ages, addresses, ports, hashes,
 * container ids, node names and the temp folders of `kubectl diff`. Both halves of a case
 * pass through the same rules, so a rule that hides too much hides it on both sides alike.
 */

const RULES: [RegExp, string][] = [
  [/\/tmp\/(LIVE|MERGED)-\d+/g, '/tmp/$1-<n>'],
  [/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uid>'],
  [/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)/g, '<time>'],
  [/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? [+-]\d{4}( [A-Z]{3,4}\b)?/g, '<time>'],
  [/(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}/g, '<time>'],
  [/sha256:[0-9a-f]{64}/g, 'sha256:<digest>'],
  [/\b[a-z-]+:\/\/[0-9a-f]{12,}\b/g, '<runtime>://<id>'],
  // Deployment -> ReplicaSet -> Pod names, and the hash label that links them.
  [/\b(web-server-deployment|fid-[a-z]+)-[a-z0-9]{6,10}-[a-z0-9]{5}\b/g, '$1-<hash>-<id>'],
  [/\b(web-server-deployment|fid-[a-z]+)-[a-z0-9]{6,10}\b/g, '$1-<hash>'],
  [/\b(fid-job|fid-run|web-server-service)-[a-z0-9]{5}\b/g, '$1-<id>'],
  [/\(Replica [a-z0-9]{5}\)/g, '(Replica <id>)'],
  [/(pod-template-hash["']?[=:]\s*["']?)[a-z0-9]{6,10}/g, '$1<hash>'],
  [/(pod-template-hash in \()[a-z0-9]{6,10}/g, '$1<hash>'],
  // The image's repository in an image ID is where the node's runtime got it from.
  [/[\w./-]+@sha256:<digest>/g, '<image>@sha256:<digest>'],
  // kind's node names and the embedded cluster's (a kind cluster named replica-demo).
  [/\b(?:kind|replica-demo)-(control-plane|worker)\d*\b/g, '<node:$1>'],
  [/("?resourceVersion"?\s*[:=]\s*\\?"?)\d+/g, '$1<rv>'],
  [/(resource ?version:? \(?)\d+/gi, '$1<rv>'],
  [/(current: |\()\d{3,}\)?/g, '$1<rv>'],
  [/("continue"\s*:\s*")[^"]+/g, '$1<token>'],
  [/\b\d{1,3}(\.\d{1,3}){3}(\/\d+)?\b/g, '<ip>'],
  [/(<ip>|localhost|\[::1\]):\d{4,5}\b/g, '$1:<port>'],
  [/\bv1\.(\d+)\.\d+(-[\w.+-]+)?\b/g, 'v1.$1.<patch>'],
  [/(?<![\w.:/"-])\d+(?:d|h|m|s)(?:\d+(?:h|m|s))?(?![\w])/g, '<age>'],
  [/<invalid>/g, '<age>'],
];

export function normalise(text: string): string {
  let out = text;
  for (const [pattern, replacement] of RULES) out = out.replace(pattern, replacement);
  return out
    .split('\n')
    .map((line) => line.replace(/(\S) {2,}/g, '$1  ').replace(/\s+$/, ''))
    .join('\n')
    .replace(/\n+$/, '');
}
