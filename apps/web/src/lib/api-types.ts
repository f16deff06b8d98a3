/** Wire types of API.md (snake_case, as sent by the server). */

export const Permission = { VIEW: 1, EDIT: 2, SHARE: 4, DELETE: 8 } as const;
export type PermissionName = 'view' | 'edit' | 'share' | 'delete';

export interface RoomView {
  id: number;
  name: string;
  slug: string;
  status: 'open' | 'closed';
  password_protected: boolean;
  permission: number;
  max_size: number;
  current_size: number;
  max_times_entered: number;
  current_times_entered: number;
  expire_at: string;
  created_at: string;
  updated_at: string;
}

export type ContentType = 'text' | 'image' | 'file' | 'url';

export interface ContentView {
  id: number;
  content_type: ContentType | (string & {});
  text: string | null;
  url: string | null;
  file_name: string | null;
  size: number | null;
  mime_type: string | null;
  sequence_number: number | null;
  created_at: string;
  updated_at: string;
}

export interface TokenClaims {
  sub: string;
  jti: string;
  room_id: number;
  room_name: string;
  permission: number;
  token_type: 'access' | 'refresh';
  iat: number;
  exp: number;
}

export interface IssueTokenResponse {
  token: string;
  expires_at: string;
  claims: TokenClaims;
  refresh_token?: string;
  refresh_token_expires_at?: string;
}

export interface RefreshResponse {
  access_token: string;
  access_token_expires_at: string;
  refresh_token: string;
  refresh_token_expires_at: string;
}

export interface SessionView {
  jti: string;
  permission: number;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
  connected: boolean;
}

export interface MessagePage {
  items: ContentView[];
  next_cursor: string | null;
  has_more: boolean;
  next_sequence_number?: number | null;
}

export interface PublicConfig {
  room: {
    name: { min_length: number; max_length: number; pattern: string };
    expiry: { allowed_ages_seconds: number[]; default_age_seconds: number };
    defaults: {
      max_size: number;
      max_times_entered: number;
      permission: number;
      password_protected: boolean;
    };
    limits: { max_size: number; max_times_entered: number };
    max_message_bytes: number;
  };
  upload: {
    chunk_size: number;
    max_file_size: number;
    reservation_ttl_seconds: number;
    tus_endpoint: string;
  };
  realtime: { websocket_path: string };
}

export interface CreateRoomBody {
  password?: string;
  age_seconds?: number;
  max_times_entered?: number;
  max_size?: number;
}

export interface UpdateSettingsBody {
  password?: string;
  remove_password?: boolean;
  age_seconds?: number;
  max_times_entered?: number;
  max_size?: number;
}

export interface PermissionsBody {
  edit: boolean;
  share: boolean;
  delete: boolean;
}

export interface DeleteContentsResponse {
  deleted: number | number[];
  freed_size: number;
  current_size: number;
}

export function hasPermission(mask: number, bit: number): boolean {
  return (mask & bit) === bit;
}

export function isFileContent(content: Pick<ContentView, 'content_type'>): boolean {
  return content.content_type === 'file' || content.content_type === 'image';
}
