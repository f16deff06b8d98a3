import { RoomApp } from '@/components/room/RoomApp';

/**
 * One template for every room: pre-rendered once with the placeholder `_` (→ `out/_.html`).
 * The real room name is read from `window.location.pathname` at runtime.
 */
export const dynamicParams = false;

export function generateStaticParams() {
  return [{ room: '_' }];
}

export default function RoomPage() {
  return <RoomApp />;
}
