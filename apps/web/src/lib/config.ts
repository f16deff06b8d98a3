'use client';

import { useQuery } from '@tanstack/react-query';

import { getApi } from './api-client';
import type { PublicConfigResponse } from '@elizabeth/protocol';

/** Used until `/config` answers (or if it cannot): the defaults documented by the server. */
export const FALLBACK_CONFIG: PublicConfigResponse = {
  room: {
    name: { min_length: 3, max_length: 50, pattern: '' },
    expiry: {
      allowed_ages_seconds: [60, 1800, 7200, 43200, 86400, 604800, 2592000, 31536000],
      default_age_seconds: 7200,
    },
    defaults: {
      max_size: 50 * 1024 * 1024,
      max_times_entered: 100,
      permission: 15,
      password_protected: false,
    },
    limits: { max_size: 10 * 1024 * 1024 * 1024, max_times_entered: 100000 },
    max_message_bytes: 256 * 1024,
  },
  upload: { chunk_size: 8 * 1024 * 1024, max_file_size: 0, reservation_ttl_seconds: 3600, tus_endpoint: '' },
  realtime: { websocket_path: '/api/v1/ws' },
};

export function useConfig() {
  const query = useQuery({
    queryKey: ['config'],
    queryFn: () => getApi().getConfig(),
    staleTime: Infinity,
    retry: 1,
  });
  return { config: query.data ?? FALLBACK_CONFIG, loaded: query.isSuccess, error: query.error };
}
