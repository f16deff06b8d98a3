import { ErrorEnvelope } from '@elizabeth/protocol';

/** Response schemas for the error statuses a route documents: `errorResponses(400, 401, 404)`. */
export function errorResponses<S extends number>(...statuses: S[]): Record<S, typeof ErrorEnvelope> {
  return Object.fromEntries(statuses.map((status) => [status, ErrorEnvelope])) as Record<
    S,
    typeof ErrorEnvelope
  >;
}

/** OpenAPI security requirement of routes that take a room access token. */
export const ROOM_TOKEN_SECURITY = [{ roomToken: [] }];
