import { useQuery } from '@tanstack/react-query';

import type { ContentView } from '@elizabeth/protocol';

import { getApi } from './api-client';

const FILE_TYPES = ['image', 'file', 'url'];

/** The cache key of a room's non-text contents; the workspace keeps it live from the socket. */
export const filesQueryKey = (slug: string) => ['files', slug] as const;

async function listFiles(slug: string): Promise<ContentView[]> {
  const api = getApi();
  try {
    return await api.listContents(slug, FILE_TYPES);
  } catch (error) {
    // A server that does not know one of the type names: filter on our side.
    if ((error as { status?: number }).status === 400)
      return (await api.listContents(slug)).filter((c) => c.content_type !== 'text');
    throw error;
  }
}

/**
 * The room's files, images and links: one cached list that the workspace updates from
 * `content_*` frames, so every reader (files panel, share-link file picker) follows it live.
 */
export function useRoomFiles(slug: string) {
  return useQuery({ queryKey: filesQueryKey(slug), queryFn: () => listFiles(slug), staleTime: 10_000 });
}
