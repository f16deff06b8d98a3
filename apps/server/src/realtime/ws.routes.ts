import { API_PREFIX, ErrorEnvelope } from '@elizabeth/protocol';
import websocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';

import { AppError } from '../lib/errors.js';
import type { RealtimeGateway } from './realtime-gateway.js';

/** Client frames are small (`connect` carries one token); anything bigger is not ours. */
export const MAX_CLIENT_FRAME_BYTES = 64 * 1024;

/**
 * `GET /api/v1/ws` (API.md §4). The upgrade itself needs no credentials (browsers cannot send
 * headers): the token arrives in the first frame, so it never appears in URLs or access logs.
 */
export async function registerWebSocketRoute(app: FastifyInstance, gateway: RealtimeGateway): Promise<void> {
  await app.register(websocket, {
    options: { maxPayload: MAX_CLIENT_FRAME_BYTES, perMessageDeflate: false },
    // The gateway says goodbye with 1001 itself; the plugin's default would close without a code.
    preClose: (done) => {
      gateway.stop();
      done();
    },
    errorHandler: (error, socket) => {
      app.log.debug({ err: error }, 'websocket error');
      socket.terminate();
    },
  });
  app.route({
    method: 'GET',
    url: `${API_PREFIX}/ws`,
    schema: {
      tags: ['realtime'],
      summary: 'WebSocket: live room events (see docs/WEBSOCKET.md)',
      description:
        'Upgrade to a WebSocket, then send `{"message_type":"connect","payload":{"token","room_name"}}` ' +
        'within the connect timeout. The server answers `connect_ack` and then pushes content, room ' +
        'and presence events; `error` frames precede every close it initiates. Close codes: 4400 ' +
        'invalid frames, 4401/4403/4404/4410 refused connect, 4408 connect timeout, 4429 connection ' +
        'limit, 4100 session revoked, 4101 password changed, 4102 address changed, 4103 room ' +
        'deleted, 4104 room expired, 1001 server shutdown. A plain GET is a 400.',
      response: { 400: ErrorEnvelope },
    },
    handler: async () => {
      throw new AppError('VALIDATION_ERROR', 'This endpoint needs a WebSocket upgrade', {
        headers: { Upgrade: 'websocket' },
      });
    },
    wsHandler: (socket, request) => gateway.accept(socket, request.ip),
  });
}
