import { useQuery } from '@tanstack/react-query';

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
