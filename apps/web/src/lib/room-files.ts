import { useQuery, type QueryClient } from '@tanstack/react-query';
import type { ContentView } from '@elizabeth/protocol';

import { listRoomFiles } from './room-prefetch';

/** The cache key of a room's non-text contents; the workspace keeps it live from the socket. */
export const filesQueryKey = (slug: string) => ['files', slug] as const;

/**
 * The room's files, images and links: one cached list that the workspace updates from
 * `content_*` frames, so every reader (files panel, share-link file picker) follows it live.
 * The first answer may be the one asked early, while the room's code loaded (room-prefetch.ts).
 */
export function useRoomFiles(slug: string) {
  return useQuery({ queryKey: filesQueryKey(slug), queryFn: () => listRoomFiles(slug), staleTime: 10_000 });
}

/**
 * Changes the cached list at once (a frame, or the answer to this page's own change). A list
 * request still in flight was answered — or will be — from the server's state before this change,
 * and its answer would replace the changed list when it lands; it is dropped and the list asked
 * again, so the answer that lands includes the change.
 */
export function updateRoomFiles(
  queryClient: QueryClient,
  slug: string,
  update: (list: ContentView[]) => ContentView[],
): void {
  const queryKey = filesQueryKey(slug);
  queryClient.setQueryData<ContentView[]>(queryKey, (list = []) => update(list));
  if (queryClient.isFetching({ queryKey }) > 0) void queryClient.invalidateQueries({ queryKey });
}
