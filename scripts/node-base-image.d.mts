/** Imports the running Node.js runtime into the Docker engine as `tag`. */
export function importNodeRuntime(tag: string): Promise<void>;
