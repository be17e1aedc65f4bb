// The part of autocannon's API bench/server.mjs uses; the package ships no types.
declare module 'autocannon' {
  interface Options {
    url: string;
    connections?: number;
    duration?: number;
    pipelining?: number;
  }
  interface Result {
    errors: number;
    non2xx: number;
    requests: { average: number; total: number };
  }
  export default function autocannon(options: Options): Promise<Result>;
}
