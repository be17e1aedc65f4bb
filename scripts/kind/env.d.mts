/** PATH and REPLICA_DEMO_BASE_IMAGE for the cluster `cluster.sh` made; empty where none was. */
export function kindToolEnv(): Record<string, string>;
