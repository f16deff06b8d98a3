import type { EventBus, RoomEvent } from './events.js';

/** In-process delivery: the default for a single server instance. */
export class MemoryEventBus implements EventBus {
  private readonly handlers = new Set<(event: RoomEvent) => void>();

  publish(event: RoomEvent): void {
    for (const handler of this.handlers) {
      try {
        handler(event);
      } catch {
        // One failing subscriber must not stop delivery to the others; each logs its own errors.
      }
    }
  }

  subscribe(handler: (event: RoomEvent) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }
}
