import { useQuery, type QueryClient } from '@tanstack/react-query';
import type { ContentView } from '@elizabeth/protocol';

import { listRoomFiles } from './room-prefetch';

/** The cache key of a room's non-text contents; the workspace keeps it live from the socket. */
export const filesQueryKey = (slug: string) => ['files', slug] as const;

type Edit = (list: ContentView[]) => ContentView[];

/**
 * Per room: the list requests in flight, and the changes made to the cached list meanwhile. A
 * request's answer reflects the server before those changes (it may land after a frame that came
 * later), so they are applied again on top of it instead of being lost.
 */
const journals = new Map<string, { inFlight: number; edits: Edit[] }>();

function journalOf(slug: string) {
  let journal = journals.get(slug);
  if (!journal) {
    journal = { inFlight: 0, edits: [] };
    journals.set(slug, journal);
  }
  return journal;
}

async function listWithChangesSince(slug: string): Promise<ContentView[]> {
  const journal = journalOf(slug);
  journal.inFlight += 1;
  const mark = journal.edits.length;
  try {
    const list = await listRoomFiles(slug);
    return journal.edits.slice(mark).reduce((items, edit) => edit(items), list);
  } finally {
    journal.inFlight -= 1;
    if (journal.inFlight === 0) journal.edits = [];
  }
}

/**
 * The room's files, images and links: one cached list that the workspace updates from
 * `content_*` frames, so every reader (files panel, share-link file picker) follows it live.
 * The first answer may be the one asked early, while the room's code loaded (room-prefetch.ts).
 */
export function useRoomFiles(slug: string) {
  return useQuery({
    queryKey: filesQueryKey(slug),
    queryFn: () => listWithChangesSince(slug),
    staleTime: 10_000,
  });
}

/**
 * Changes the cached list at once (a frame, or the answer to this page's own change); a list
 * request in flight gets the change applied to its answer too (no extra request).
 */
export function updateRoomFiles(queryClient: QueryClient, slug: string, update: Edit): void {
  const journal = journalOf(slug);
  if (journal.inFlight > 0) journal.edits.push(update);
  queryClient.setQueryData<ContentView[]>(filesQueryKey(slug), (list = []) => update(list));
}
