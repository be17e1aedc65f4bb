/**
 * Flag values as commander hands them over: raw strings and booleans. Each command validates
 * its own (core/validate.ts) and names the flag in the error.
 */
export type RawOptions = Record<string, string | boolean | undefined>;
