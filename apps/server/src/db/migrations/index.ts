import * as initial from './0001_initial.js';
import * as uploadProgress from './0002_upload_progress.js';
import * as reservationOwner from './0003_reservation_owner.js';
import * as roomTombstones from './0005_room_tombstones.js';
import * as shareLinks from './0006_share_links.js';
import * as displayNames from './0007_display_names.js';
import * as shareLinkDownloadLeases from './0008_share_link_download_leases.js';
import * as postMessageFunction from './0009_post_message_function.js';
import type { DatabaseMigration } from './types.js';

export type { DatabaseMigration, MigrationContext } from './types.js';

/**
 * Every migration, oldest first. Imported statically (not read from a folder) so the compiled
 * server in `dist/` and a bundled build find them without any file-system lookup.
 */
export const MIGRATIONS: readonly DatabaseMigration[] = [
  { name: '0001_initial', up: initial.up },
  { name: '0002_upload_progress', up: uploadProgress.up },
  { name: '0003_reservation_owner', up: reservationOwner.up },
  { name: '0005_room_tombstones', up: roomTombstones.up },
  { name: '0006_share_links', up: shareLinks.up },
  { name: '0007_display_names', up: displayNames.up },
  { name: '0008_share_link_download_leases', up: shareLinkDownloadLeases.up },
  { name: '0009_post_message_function', up: postMessageFunction.up },
];
