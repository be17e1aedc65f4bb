import type { ServerResponse } from 'node:http';
import { StoreError } from '../store.js';
import type { ResourceType } from '../resources.js';

/** `details` of a Status as the real API server fills it. */
export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: { reason: string; message: string; field?: string }[];
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** A StoreError that also carries the Status `details` (causes of a 422, names of a 404). */
export class ApiError extends StoreError {
  constructor(
    code: number,
    reason: StoreError['reason'],
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(code, reason, message);
  }
}

export function failure(
  code: number,
  reason: string,
  message: string,
  details?: StatusDetails,
): Status {
  const status: Status = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    code,
  };
  if (details) status.details = details;
  return status;
}

export function success(type: ResourceType, name: string, uid?: string): Status {
  const details: StatusDetails = { name, kind: type.plural };
  if (type.group) details.group = type.group;
  if (uid) details.uid = uid;
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details, code: 200 };
}

/**
 * Any thrown value as a Status. Store errors keep their code and reason; the real server
 * names the resource and object in `details`, so the caller passes what the request was about.
 */
export function statusFromError(
  error: unknown,
  about?: { type?: ResourceType; name?: string },
): Status {
  if (error instanceof ApiError && error.details) {
    return failure(error.code, error.reason, error.message, error.details);
  }
  if (error instanceof StoreError) {
    let details: StatusDetails | undefined;
    if (about?.type && (error.code === 404 || error.code === 409 || error.code === 403)) {
      details = {};
      if (about.name) details.name = about.name;
      if (about.type.group) details.group = about.type.group;
      details.kind = about.type.plural;
    }
    return failure(error.code, error.reason, error.message, details);
  }
  const message = error instanceof Error ? error.message : String(error);
  return failure(500, 'InternalError', `Internal error occurred: ${message}`);
}

export function unsupported(code: 404 | 405 | 415 | 400 | 406, what: string): ApiError {
  const reason =
    code === 404
      ? 'NotFound'
      : code === 405
        ? 'MethodNotAllowed'
        : code === 415
          ? 'UnsupportedMediaType'
          : code === 406
            ? 'NotAcceptable'
            : 'BadRequest';
  return new ApiError(code, reason, `the embedded cluster does not support ${what}`);
}

export function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-cache, private',
  });
  res.end(text);
}

export function sendStatus(res: ServerResponse, status: Status): void {
  sendJson(res, status.code, status);
}
